import { ownerCommandArgs } from '../core/command-line.js';
import type { Alert } from '../notify/types.js';

/**
 * The `/lifeguard` chat commands: one table that the parser, the help text and the audit lines share.
 * `write` marks what changes state, which only the owner may run.
 */
export const SUBCOMMANDS = [
  { name: 'status', usage: 'status', summary: 'state of both Gateways', write: false },
  { name: 'diagnose', usage: 'diagnose [main]', summary: 'run every check on the main now and say what to do', write: false },
  { name: 'incidents', usage: 'incidents', summary: 'the latest incidents', write: false },
  { name: 'incident', usage: 'incident <id>', summary: 'one incident', write: false },
  { name: 'ack', usage: 'ack <id>', summary: 'take the incident (reminders stop, a frozen ladder resumes)', write: true },
  { name: 'restore', usage: 'restore [--id ID]', summary: "put the main's last-known-good config back (the newest snapshot, or ID)", write: true },
  { name: 'restart', usage: 'restart main', summary: 'restart the main after checking its config, and wait until it answers', write: true },
  { name: 'resolve', usage: 'resolve <id>', summary: 'close the incident', write: true },
  { name: 'pause', usage: 'pause main <duration>', summary: 'no alerts and no automated action, 1m to 7d (e.g. 30m, 2h)', write: true },
  { name: 'resume', usage: 'resume main', summary: 'end a pause now', write: true },
  { name: 'help', usage: 'help', summary: 'this list', write: false },
] as const;

export type SubcommandName = (typeof SUBCOMMANDS)[number]['name'];

export const CHAT_PREFIX = '/lifeguard';

/** `/lifeguard restart main`. */
export function chat(text: string): string {
  return `${CHAT_PREFIX} ${text}`;
}

/**
 * The chat command that does what a CLI suggestion (`npx lifeguard config restore main`, from diagnose's fix
 * list or an alert) does, or undefined when there is none (a diff, the logs, anything on the machine).
 */
export function chatCommandFor(cli: string): string | undefined {
  const args = ownerCommandArgs(cli);
  if (args === undefined) return undefined;
  const [a, b, c] = args;
  // Only the main is repaired from the rescue's chat; the rescue cannot safely repair itself.
  const mainOnly = (instance: string | undefined) => instance === undefined || instance === 'main';
  if (a === 'status' || a === 'incidents') return chat(a);
  if (a === 'diagnose' && mainOnly(b)) return chat('diagnose');
  if (a === 'restart' && b === 'main') return chat('restart main');
  if (a === 'resume' && b === 'main') return chat('resume main');
  if (a === 'config' && b === 'restore' && mainOnly(c)) return chat('restore');
  if (a === 'incident' && c !== undefined) {
    if (b === 'show') return chat(`incident ${c}`);
    if (b === 'ack' || b === 'resolve') return chat(`${b} ${c}`);
  }
  return undefined;
}

const PROBLEM_EVENTS = new Set<Alert['event']>(['down', 'degraded', 'config-invalid', 'escalated', 'reminder']);

/**
 * The one or two chat commands most useful when an alert arrives in the rescue bot's chat: find out what
 * is wrong, then the likeliest fix. None about the rescue being in trouble: it would not answer them.
 */
export function chatCommandsForAlert(alert: Alert): string[] {
  if (alert.event === 'digest') return [chat('incidents')];
  if (!PROBLEM_EVENTS.has(alert.event)) return [chat('status')];
  if (alert.instance !== 'main') return [];
  const configBroken = alert.event === 'config-invalid' || Object.values(alert.details).includes('config-invalid');
  if (configBroken) return [chat('diagnose'), chat('restore')];
  const ack = alert.commands.map(chatCommandFor).find((c) => c?.startsWith(chat('ack ')));
  return [chat('diagnose'), ...(ack ? [ack] : [])];
}

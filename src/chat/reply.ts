import { formatDuration } from '../core/duration.js';
import { redactText } from '../secrets/redact.js';
import type { IncidentRecord } from '../incidents/record.js';
import { clip } from '../notify/alert-text.js';
import type { RestartReport } from '../surfaces/repair/restart.js';
import type { Diagnosis } from '../surfaces/diagnose.js';
import type { InstanceView, StatusView } from '../surfaces/status-view.js';
import { CHAT_PREFIX, SUBCOMMANDS, chat, chatCommandFor } from './commands.js';
import { ownerCommand, ownerCommandArgs } from '../core/command-line.js';

/*
 * Replies a person reads on a phone, often with a Gateway down: a few short lines with the state, the
 * reason, and the next thing to send. Never JSON, never a secret (every reply passes through finish()).
 */

/** Telegram's limit is 4096, Discord's 2000; a reply is meant to be far shorter anyway. */
export const MAX_REPLY_CHARS = 1900;
const REASON_CHARS = 220;

/** The documents `lifeguard incident ack|resolve --json` prints. */
export interface IncidentChange {
  readonly id: string;
  readonly changed: boolean;
  readonly status: 'open' | 'resolved';
  readonly ack: { readonly by: string; readonly at: number } | null;
  readonly frozen: boolean;
}

/** `lifeguard config restore --json`. */
export interface RestoreDoc {
  readonly instance: string;
  readonly snapshot: string;
  readonly configPath: string;
  readonly changed: boolean;
  readonly keptAs: string | null;
  readonly incident: string | null;
}

/** `lifeguard pause --json` and `lifeguard resume --json`. */
export interface PauseDoc { readonly instance: string; readonly pausedUntil: string; readonly by: string }
export interface ResumeDoc { readonly instance: string; readonly wasPaused: boolean }

export type IncidentSummary = Omit<IncidentRecord, 'timeline' | 'logTail'>;

/** Masks secrets and keeps the reply within one chat message (or `max`). */
export function finish(text: string, secrets: readonly string[], max = MAX_REPLY_CHARS): string {
  return clip(redactText(text.trim(), secrets), max);
}

const short = (text: string) => clip(text.replace(/\s*\n\s*/g, ' ').trim(), REASON_CHARS);
const utc = (iso: string | number) => new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** Alternatives: any of these. */
function next(commands: readonly string[]): string[] {
  return commands.length > 0 ? [`Next: ${commands.join(' · ')}`] : [];
}

/** Steps, in this order. */
function sequence(steps: readonly string[]): string[] {
  return steps.length > 0 ? [`Next: ${steps.slice(0, 3).join(', then ')}`] : [];
}

const STATE_ICONS: Readonly<Record<string, string>> = {
  healthy: '✅', degraded: '🟠', suspect: '🟡', down: '🔴', starting: '⏳', recovering: '⏳',
  'config-invalid': '🔴', 'port-conflict': '🔴', 'not-running': '🔴',
};
const icon = (state: string) => STATE_ICONS[state.replace(/ \(stale\)$/, '')] ?? '❔';

// ---------------------------------------------------------------------------------------------------

export function replyHelp(): string {
  const lines = SUBCOMMANDS.map((s) => `${chat(s.usage)}: ${s.summary}${s.write ? ' (owner)' : ''}`);
  return [
    '🛟 lifeguard, answered by the rescue Gateway itself (no model needed):',
    ...lines,
    'Commands marked (owner) change things; only the owner may send them.',
  ].join('\n');
}

function instanceLines(i: InstanceView, now: number): string[] {
  const since = i.since ? ` for ${formatDuration(Math.max(0, now - Date.parse(i.since)))}` : '';
  const healthy = i.state === 'healthy';
  const process = healthy && i.pid !== null ? ` (pid ${i.pid}${i.uptimeMs !== null ? `, up ${formatDuration(i.uptimeMs)}` : ''})` : '';
  const lines = [`${icon(i.state)} ${i.instance}: ${healthy ? 'healthy' : i.state.toUpperCase()}${i.classification && !healthy ? ` [${i.classification}]` : ''}${healthy ? process : since}`];
  if (!healthy) lines.push(`   ${short(i.reason)}`);
  if (i.config && i.config.valid !== true) lines.push(`   config ${i.config.valid === false ? 'INVALID' : 'not checked'}: ${short(i.config.detail)}`);
  if (i.incident) lines.push(`   incident ${i.incident.id} (${i.incident.rung}${i.incident.frozen ? ', frozen until ack' : ''})`);
  if (i.pausedUntil) lines.push(`   paused until ${utc(i.pausedUntil)}`);
  if (i.automationHeld && !i.pausedUntil) lines.push(`   lifeguard holds off: ${short(i.automationHeld)}`);
  return lines;
}

export function replyStatus(view: StatusView, now: number): string {
  const lines = view.instances.flatMap((i) => instanceLines(i, now));
  if (!view.supervisor.running) lines.push(`⚠️ lifeguard's supervisor is not running${view.supervisor.note ? ` (${short(view.supervisor.note)})` : ''}`);
  const main = view.instances.find((i) => i.instance === 'main');
  const troubled = main !== undefined && (main.state !== 'healthy' || main.incident !== null);
  return [...lines, ...next(troubled ? [chat('diagnose')] : [])].join('\n');
}

/** Fix steps that only show something: a chat reply already says what they would. */
function lookOnly(command: string): boolean {
  const [verb, sub] = ownerCommandArgs(command) ?? [];
  return verb === 'logs' || (verb === 'config' && (sub === 'validate' || sub === 'diff'));
}

/**
 * What to send next after a diagnosis: its fix list in order, in chat form where there is one, "on the
 * machine" where there is none (an edit, a kill); a restore is followed by a restart.
 */
function nextAfterDiagnosis(d: Diagnosis): string[] {
  const steps: string[] = [];
  for (const fix of d.fix) {
    const [command = fix, comment] = fix.split(/\s+#\s+/);
    const mapped = chatCommandFor(command);
    const said = (text: string) => (comment ? `${text} (${short(comment)})` : text);
    if (mapped) steps.push(said(mapped));
    else if (!lookOnly(command)) steps.push(said(`on the machine: ${short(command)}`));
  }
  if (steps.includes(chat('restore')) && !steps.some((s) => s.startsWith(chat('restart')))) steps.push(chat('restart main'));
  if (steps.length === 0 && d.fix[0]) steps.push(`on the machine: ${short(d.fix[0])}`);
  return sequence(steps);
}

export function replyDiagnosis(d: Diagnosis): string {
  const pm2 = d.pm2.reachable ? `PM2 ${d.pm2.status ?? 'unknown'}${d.pm2.pid ? ` (pid ${d.pm2.pid})` : ''}` : 'PM2 not reachable';
  const snapshot = d.snapshots.count === 0
    ? 'no snapshot yet'
    : `snapshot ${d.snapshots.newest}${d.snapshots.matchesCurrent ? ' (= current config)' : ' (differs from the current config)'}`;
  return [
    `${icon(d.verdict)} ${d.instance}: ${d.verdict.toUpperCase()}`,
    short(d.summary),
    `${pm2} · config ${d.config.valid === true ? 'valid' : d.config.valid === false ? 'INVALID' : 'not checked'} · ${snapshot}`,
    ...(d.incident ? [`incident ${d.incident.id} (${d.incident.rung}, ${d.incident.status})`] : []),
    ...(d.fix.length === 0 ? ['Nothing to fix.'] : nextAfterDiagnosis(d)),
  ].join('\n');
}

export function replyIncidents(records: readonly IncidentSummary[], now: number): string {
  if (records.length === 0) return 'No incidents recorded.';
  const lines = records.map((r) => {
    const open = r.status === 'open';
    const what = `${r.problem}${r.classification && r.classification !== r.problem ? ` [${r.classification}]` : ''}`;
    return `${open ? '🔴' : '✅'} ${r.id} ${open ? `OPEN at ${r.rung}${r.frozen ? ', frozen' : ''}` : 'resolved'}: ${what}, ${formatDuration((r.resolvedAt ?? now) - r.openedAt)}`;
  });
  return ['Incidents, newest first:', ...lines, `Details: ${chat('incident <id>')}`].join('\n');
}

export function replyIncident(r: IncidentRecord, now: number): string {
  const open = r.status === 'open';
  const action = r.actions.at(-1);
  const lines = [
    `${open ? '🔴' : '✅'} Incident ${r.id}: ${open ? `OPEN at ${r.rung}${r.frozen ? ' (frozen until ack)' : ''}` : 'resolved'}`,
    short(r.summary),
    `opened ${formatDuration(now - r.openedAt)} ago${r.resolvedAt ? `, resolved after ${formatDuration(r.resolvedAt - r.openedAt)}` : ''}${r.ack ? ` · acked by ${r.ack.by}` : ''}`,
    ...(action ? [`last action: ${action.rung} ${action.action} ${action.status}`] : []),
  ];
  if (open) lines.push(...next([chat('diagnose'), ...(r.ack ? [] : [chat(`ack ${r.id}`)]), chat(`resolve ${r.id}`)]));
  return lines.join('\n');
}

export function replyIncidentChange(doc: IncidentChange, verb: 'ack' | 'resolve'): string {
  if (!doc.changed) return `Incident ${doc.id} was already ${doc.status === 'resolved' ? 'resolved' : 'acknowledged'}; nothing changed.`;
  if (verb === 'resolve') return `✅ Incident ${doc.id} resolved.`;
  return [
    `✅ Incident ${doc.id} acknowledged${doc.ack ? ` by ${doc.ack.by}` : ''}. Reminders stop${doc.frozen ? '' : '; lifeguard may act on its own again'}.`,
    ...next([chat('diagnose')]),
  ].join('\n');
}

export function replyRestore(doc: RestoreDoc): string {
  const head = doc.changed
    ? [`✅ Restored snapshot ${doc.snapshot} to ${doc.configPath}.`, ...(doc.keptAs ? [`The replaced file is kept as ${doc.keptAs}.`] : [])]
    : [`${doc.configPath} already holds snapshot ${doc.snapshot}; the file was not touched.`];
  return [...head, `The ${doc.instance} was not restarted.`, ...next([chat(`restart ${doc.instance}`)])].join('\n');
}

/** `openIncident`: the instance's open incident, so a healthy main can be followed by a resolve. */
export function replyRestart(r: RestartReport, openIncident: string | undefined): string {
  if (r.state === 'refused') {
    const why = /config is invalid \((.*)\); restarting/.exec(r.detail)?.[1];
    return [
      `⛔ ${r.instance} NOT restarted: ${why ? `its config is invalid (${short(why)})` : short(r.detail.replace(/^refused: /, ''))}. Nothing was changed.`,
      ...sequence([chat('restore'), chat(`restart ${r.instance}`)]),
    ].join('\n');
  }
  if (r.healthy === true) {
    const seconds = Math.round(r.waitedMs / 1000);
    const how = r.restarted ? `restarted and healthy after ${seconds} s` : `was already restarted by another repair while this waited, and is healthy`;
    return [`✅ ${r.instance} ${how}.`, ...next(openIncident ? [chat(`resolve ${openIncident}`)] : [chat('status')])].join('\n');
  }
  return [`🔴 ${r.instance} ${r.restarted ? 'restarted, but is' : 'is'} not healthy: ${short(r.detail)}`, ...next([chat('diagnose')])].join('\n');
}

export function replyPause(doc: PauseDoc): string {
  return [
    `⏸ ${doc.instance} paused until ${utc(doc.pausedUntil)}: no alerts and no automated action (PM2 still restarts crashes).`,
    `End it early: ${chat(`resume ${doc.instance}`)}`,
  ].join('\n');
}

export function replyResume(doc: ResumeDoc): string {
  return doc.wasPaused ? `▶️ ${doc.instance}: alerts and automated actions resumed.` : `${doc.instance} was not paused; nothing changed.`;
}

// ---------------------------------------------------------------------------------------------------
// When the CLI did not do what was asked

const BUSY = /^busy: (.+?) is running (.+?) since (\S+?)(?: \(|;)/;
const RETRY = /try again in (\d+) s/;

/** Exit 4: another repair holds the repair lock; says who, and when to try again. Nothing was changed. */
export function replyBusy(message: string, asked: string): string {
  const holder = BUSY.exec(message);
  const seconds = RETRY.exec(message)?.[1];
  const who = holder ? `${holder[1]} is running ${holder[2]} (since ${utc(holder[3]!)})` : 'another repair is running';
  return `⏳ Busy: ${who}. Nothing was changed. Try again in ${seconds ?? 'a minute'}${seconds ? ' s' : ''}: ${asked}`;
}

/** Another `/lifeguard` command is being answered: one at a time. */
export function replyChatBusy(): string {
  return `⏳ Busy: another ${CHAT_PREFIX} command is still being answered. Nothing was run; send yours again once it has replied.`;
}

export function replyRateLimited(sender: string, limit: number, windowMs: number, retryAfterMs: number): string {
  return `⏳ ${sender} sent more than ${limit} ${CHAT_PREFIX} commands in ${Math.round(windowMs / 1000)} s. Nothing was run; send again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`;
}

/** Exit 5. */
export function replyPm2Unreachable(message: string): string {
  return [`🔴 PM2 is not reachable, so nothing can be restarted from here (${short(message.split('\n')[0] ?? message)}).`, `On the machine, in the lifeguard folder: ${ownerCommand('up')}`].join('\n');
}

/** Exit 2 and other refusals of the CLI: its own words (first line), and where to look. */
export function replyFailed(message: string, asked: string, hint: string | undefined): string {
  const first = message.split('\n').find((line) => line.trim()) ?? 'no output';
  return [`❌ ${asked} failed: ${short(first.replace(/^lifeguard: /, ''))}`, ...(hint ? [hint] : [])].join('\n');
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { answerChat, type ChatSender, type CliResult } from '../../chat/run.js';
import { finish } from '../../chat/reply.js';
import type { LifeguardConfig } from '../../config/load.js';
import { INSTANCE_NAMES } from '../../config/schema.js';
import { errorMessage } from '../../core/errors.js';
import { auditIncident } from '../../incidents/audit.js';
import { withTimeline } from '../../incidents/record.js';
import { findOpenIncident, readIncident, updateIncident } from '../../incidents/store.js';
import { loadCommandContext } from './command-context.js';
import { loadCommandConfig, stdout } from './context.js';

const CLI_SCRIPT = fileURLToPath(new URL('../../cli.js', import.meta.url));
/** A CLI child's output beyond this is not a reply anyone reads; it is cut rather than buffered. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;

/**
 * `lifeguard chat`: what the rescue Gateway's plugin runs for each `/lifeguard ...` message. Prints the
 * reply text and exits 0 whenever there is a reply, refusals included; the plugin shows whatever it prints.
 */
export function registerChatCommand(program: Command): void {
  program
    .command('chat', { hidden: true })
    .description("answer one /lifeguard chat command (the rescue Gateway's lifeguard plugin runs this)")
    .requiredOption('--sender <id>', "the Gateway's sender id")
    .option('--channel <name>', 'the channel the message came from (telegram, webchat, ...)')
    .option('--owner', 'the Gateway says the sender is its owner')
    .option('--no-owner', 'the Gateway says the sender is not its owner (without either, chat.ownerIds decides)')
    .option('--authorized', 'the Gateway lets the sender use commands')
    .argument('[words...]', 'what followed /lifeguard')
    .action(async (words: string[], options: { sender: string; channel?: string; owner?: boolean; authorized?: boolean }) => {
      const sender: ChatSender = {
        id: options.sender, channel: options.channel, authorized: options.authorized === true, gatewayOwner: options.owner,
      };
      let settings: LifeguardConfig;
      try {
        settings = await loadCommandConfig();
      } catch (error) {
        stdout(finish(`❌ lifeguard cannot read its own config: ${errorMessage(error).split('\n')[0]}`, []));
        return;
      }
      stdout(await answerChat(words.join(' '), sender, {
        ownerIds: settings.chat.ownerIds,
        runCli: runLifeguard,
        audit: ({ instance, incidentId }, who, text) => (incidentId ? auditNamed(settings.home, incidentId, who, text) : auditIncident(settings.home, instance, who, text)),
        openIncident: async (instance) => (await findOpenIncident(settings.home, instance).catch(() => undefined))?.id,
        secrets: await gatewayTokens(settings),
        lockTimeoutMs: settings.repair.lockTimeoutMs,
        now: Date.now,
      }));
    });
}

/** The audit line in the incident a command named, open or just resolved by it; never throws. */
async function auditNamed(home: string, id: string, who: string, text: string): Promise<void> {
  try {
    // Checked first: locking a record that does not exist waits out every retry.
    if (!(await readIncident(home, id))) return;
    await updateIncident(home, id, (record) => withTimeline(record, [{ at: Date.now(), kind: 'audit', text: `${who}: ${text}` }]));
  } catch {
    // An audit line must not fail the answer.
  }
}

/** Runs this same CLI as a child with `args`, killing it at the deadline; never rejects. */
function runLifeguard(args: readonly string[], timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_SCRIPT, ...args], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => { if (out.length < MAX_OUTPUT_CHARS) out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { if (err.length < MAX_OUTPUT_CHARS) err += chunk.toString(); });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 70, stdout: out, stderr: `${err}\ncannot run lifeguard: ${error.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? null : code ?? 70, stdout: out, stderr: err });
    });
  });
}

/** Both Gateways' tokens, so that no reply can carry one; best effort (a broken config must not stop the chat). */
async function gatewayTokens(settings: LifeguardConfig): Promise<string[]> {
  try {
    const { instances } = await loadCommandContext({ settings, snapshotFallback: true });
    return INSTANCE_NAMES.map((name) => instances[name].token).filter((token): token is string => token !== undefined);
  } catch {
    return [];
  }
}

// The rescue Gateway's `/lifeguard` chat command (OpenClaw and Clawdbot). A thin forwarder: parsing, who
// may do what, the repair itself and the reply text are all `lifeguard chat`, which is tested with
// lifeguard. Plain ESM with no SDK import and no build step, so the Gateway loads this file as it is.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A safety net only: `lifeguard chat` bounds its own commands (a restart waits up to a few minutes). */
export const TIMEOUT_MS = 10 * 60_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * `LIFEGUARD_CLI` is "<node> <.../dist/cli.js>" (set by lifeguard in the rescue's PM2 environment). A path
 * may contain spaces, so the Node binary is the shortest leading part that is an existing file.
 */
export function splitCli(value) {
  const text = (value ?? '').trim();
  if (!text) return undefined;
  const words = text.split(' ');
  for (let i = 1; i < words.length; i += 1) {
    const file = words.slice(0, i).join(' ');
    if (isFile(file)) return { file, args: [words.slice(i).join(' ')] };
  }
  return isFile(text) ? { file: text, args: [] } : undefined;
}

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The `lifeguard chat` arguments for one invocation. The owner flag is the Gateway's own verdict where it
 * gives one (OpenClaw); without it (Clawdbot) lifeguard decides from `chat.ownerIds`.
 */
export function chatArgs(ctx, owner) {
  const words = typeof ctx.args === 'string' ? ctx.args.split(/\s+/).filter(Boolean) : [];
  return [
    'chat',
    '--sender', String(ctx.senderId || 'unknown'),
    '--channel', String(ctx.channel || 'unknown'),
    ...(owner === undefined ? [] : [owner ? '--owner' : '--no-owner']),
    ...(ctx.isAuthorizedSender ? ['--authorized'] : []),
    '--',
    ...words,
  ];
}

/** OpenClaw's owner verdict, confirmed as still current right before anything runs; undefined on Clawdbot. */
function ownerOf(ctx) {
  if (typeof ctx.senderIsOwner !== 'boolean') return undefined;
  if (!ctx.senderIsOwner) return false;
  if (typeof ctx.assertOwnerCurrent !== 'function') return true;
  try {
    ctx.assertOwnerCurrent();
    return true;
  } catch {
    return false;
  }
}

function run(file, args, options) {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, maxBuffer: MAX_OUTPUT_BYTES, killSignal: 'SIGKILL', windowsHide: true }, (error, stdout, stderr) => {
      resolve({ error, stdout: String(stdout ?? ''), stderr: String(stderr ?? '') });
    });
  });
}

const HIDDEN = '(details hidden)';

/**
 * lifeguard's own idea of what is secret (dist/secrets/vocabulary.js beside its CLI), so the plugin has
 * no second one. Without it nothing of a complaint is shown.
 */
async function redactorOf(cli) {
  try {
    const vocabulary = await import(pathToFileURL(join(dirname(cli.args[0] ?? ''), 'secrets', 'vocabulary.js')).href);
    if (typeof vocabulary.redactInlineSecrets === 'function') return (text) => vocabulary.redactInlineSecrets(text);
  } catch {
    // an older or moved lifeguard: show nothing rather than guess
  }
  return () => HIDDEN;
}

/** One line of lifeguard's complaint, without anything that looks like a secret. */
function firstLine(text, redact) {
  const line = text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  return line ? redact(line).slice(0, 200) : '';
}

/**
 * The command handler. Whatever happens (lifeguard missing, a crash, a timeout), it answers with a short
 * text and never throws into the Gateway.
 */
export function createHandler({ env = process.env, exec = run, timeoutMs = TIMEOUT_MS } = {}) {
  return async (ctx) => {
    let redact = () => HIDDEN;
    try {
      // Read before anything is awaited: the owner check must describe this invocation.
      const owner = ownerOf(ctx);
      const cli = splitCli(env.LIFEGUARD_CLI);
      if (!cli) return { text: '⚠️ lifeguard is not reachable from this Gateway: LIFEGUARD_CLI is not set, or names no Node binary (start the Gateways with `lifeguard up`).' };
      redact = await redactorOf(cli);
      const result = await exec(cli.file, [...cli.args, ...chatArgs(ctx, owner)], { env, timeout: timeoutMs });
      const reply = result.stdout.trim();
      if (!result.error && reply) return { text: reply };
      // execFile kills a child that passes maxBuffer too: that is an overflow, not a time-out.
      if (result.error?.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return { text: `⚠️ lifeguard's answer was longer than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB, so it was stopped and nothing of it is shown. Send /lifeguard status to see where things are.` };
      if (result.error?.killed) return { text: `⚠️ lifeguard did not answer within ${Math.round(timeoutMs / 1000)} s. Send /lifeguard status to see where things are.` };
      const why = firstLine(result.stderr, redact) || firstLine(result.error?.message ?? '', redact) || 'no reply';
      return { text: `⚠️ lifeguard could not answer: ${why}` };
    } catch (error) {
      return { text: `⚠️ lifeguard could not answer: ${firstLine(String(error?.message ?? error), redact)}` };
    }
  };
}

export default {
  id: 'lifeguard',
  name: 'lifeguard',
  description: '/lifeguard chat commands that check and repair the main Gateway of this machine, answered without any model',
  register(api) {
    api.registerCommand({
      name: 'lifeguard',
      description: 'Check and repair the main Gateway (lifeguard); /lifeguard help lists the commands',
      acceptsArgs: true,
      // Clawdbot: only senders its allowlists authorize. OpenClaw does the same by default.
      requireAuth: true,
      // OpenClaw hands senderIsOwner (and assertOwnerCurrent) to a plugin only when the command declares
      // scopes. chat.send already needs operator.write, so WebChat clients lose nothing; channel senders must
      // be OpenClaw's owners (commands.ownerAllowFrom). Clawdbot 2026.1.x ignores the key.
      requiredScopes: ['operator.write'],
      handler: createHandler(),
    });
  },
};

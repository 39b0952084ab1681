import { z } from 'zod';
import { callGateway } from '../../probes/gateway-ws.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { chatCommandsForAlert } from '../../chat/commands.js';
import { plainAlertText } from '../alert-text.js';
import { commandEnv, exitDetail, runCommand } from '../exec.js';
import { DeliveryError, type Alert, type GatewayAccess, type ProviderDefinition, type SendContext } from '../types.js';

const options = z.strictObject({
  channel: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'must be a channel name of the rescue Gateway, e.g. "telegram", "discord", "whatsapp"')
    .describe('the rescue Gateway channel to send through, e.g. "telegram"'),
  target: z
    .string()
    .regex(/^[^\r\n]+$/, 'must be one line')
    .describe('who gets it: a Telegram chat id or @user, a Discord/Slack channel:<id> or user:<id>, a +E.164 number for Signal/WhatsApp'),
  /** The channel account to send from, when the rescue has several. */
  account: z.string().regex(/^[^\r\n]+$/, 'must be one line').optional(),
  via: z.enum(['auto', 'cli', 'rpc'], { error: 'must be "auto", "cli" or "rpc"' }).default('auto'),
});
type GatewayOptions = z.infer<typeof options>;

export type GatewayMessage =
  /** Arguments after the rescue's CLI command. */
  | { readonly via: 'cli'; readonly args: readonly string[] }
  | { readonly via: 'rpc'; readonly params: GatewaySendParams };

interface GatewaySendParams {
  readonly to: string;
  readonly message: string;
  readonly channel: string;
  readonly accountId?: string;
  readonly idempotencyKey: string;
}

/** Channels the Gateway CLI delivers itself, from the rescue's config, even while that Gateway is down. */
const DIRECT_CHANNELS = new Set(['telegram', 'discord', 'slack', 'signal', 'imessage', 'msteams']);
/** Short enough for every chat channel's single-message limit (Discord's 2000 is the lowest). */
const MESSAGE_CHARS = 2000;
/** callGateway needs its own bound; the attempt's signal usually ends the wait sooner. */
const RPC_TIMEOUT_MS = 30_000;

/**
 * A message through the rescue Gateway's own channels, so alerts reach the owner where the bot talks to
 * them: its CLI (`message send`) for channels it delivers directly, its `send` RPC for the others (WhatsApp).
 */
export const gateway: ProviderDefinition<GatewayOptions, GatewayMessage> = {
  type: 'gateway',
  options,
  secrets: () => [],
  format(alert, opts) {
    const text = withChatCommands(alert);
    const via = opts.via === 'auto' ? (DIRECT_CHANNELS.has(opts.channel) ? 'cli' : 'rpc') : opts.via;
    if (via === 'cli') {
      const account = opts.account === undefined ? [] : ['--account', opts.account];
      return { via, args: ['message', 'send', '--channel', opts.channel, '--target', opts.target, '--message', text, ...account, '--json'] };
    }
    const accountId = opts.account === undefined ? {} : { accountId: opts.account };
    return { via, params: { to: opts.target, message: text, channel: opts.channel, ...accountId, idempotencyKey: alert.idempotencyKey } };
  },
  async send(message, opts, context) {
    const rescue = context.rescueGateway;
    if (!rescue) throw new DeliveryError('the rescue Gateway is not known to lifeguard, so the gateway provider has nothing to send through', false);
    if (message.via === 'cli') return sendByCli(message.args, opts, rescue, context);
    return sendByRpc(message.params, rescue, context.signal);
  },
};

/**
 * The alert, ending with the one or two `/lifeguard` commands most useful now: the owner reads it in the
 * rescue bot's chat and can answer right there, with no model needed.
 */
function withChatCommands(alert: Alert): string {
  const commands = chatCommandsForAlert(alert);
  if (commands.length === 0) return plainAlertText(alert, MESSAGE_CHARS);
  const tail = `Reply with:\n${commands.join('\n')}`;
  return `${plainAlertText(alert, MESSAGE_CHARS - tail.length - 2)}\n\n${tail}`;
}

async function sendByCli(args: readonly string[], opts: GatewayOptions, rescue: GatewayAccess, context: SendContext): Promise<void> {
  const secrets = rescue.token ? [rescue.token] : [];
  const outcome = await runCommand([...rescue.command, ...args], {
    label: 'rescue Gateway CLI',
    env: commandEnv(context.env, rescue.env),
    signal: context.signal,
    secrets,
  });
  if (outcome.code === 0) return;
  const unconfigured = /unknown channel/i.test(outcome.stderr + outcome.stdout);
  const hint = unconfigured ? ` (the rescue Gateway has no "${opts.channel}" channel configured)` : '';
  throw new DeliveryError(`rescue Gateway CLI ${exitDetail(outcome, secrets)}${hint}`, !unconfigured);
}

async function sendByRpc(params: GatewaySendParams, rescue: GatewayAccess, signal: AbortSignal): Promise<void> {
  const call = callGateway({
    url: rescue.url,
    token: rescue.token,
    timeoutMs: RPC_TIMEOUT_MS,
    clientVersion: LIFEGUARD_VERSION,
    method: 'send',
    params,
    scopes: ['operator.write'],
  });
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const result = await Promise.race([call, aborted]);
  if (result === 'aborted') throw new DeliveryError('rescue Gateway send RPC: no answer before the attempt timed out', true);
  if (result.ok) return;
  // A channel the rescue does not have, or a token without operator.write, stays so until someone changes the config.
  const permanent = /unsupported channel|missing scope/i.test(result.detail);
  throw new DeliveryError(`rescue Gateway send RPC: ${result.detail}`, !permanent);
}

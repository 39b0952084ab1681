import { z } from 'zod';
import { readGatewayConfigObject, telegramBotOf, TELEGRAM_API, type TelegramBot } from '../../config/gateway-channels.js';
import { callGateway } from '../../probes/gateway-ws.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { chatCommandsForAlert } from '../../chat/commands.js';
import { plainAlertText } from '../alert-text.js';
import { commandEnv, exitDetail, runCommand } from '../exec.js';
import { httpUrl, joinUrl, jsonRequest, sendHttp } from '../http.js';
import { notOk } from './telegram.js';
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
  via: z.enum(['auto', 'bot-api', 'cli', 'rpc'], { error: 'must be "auto", "bot-api", "cli" or "rpc"' }).default('auto'),
  /** The Bot API root for the direct Telegram route when the rescue config names none (Clawdbot has no such key). */
  apiRoot: httpUrl.optional(),
});
type GatewayOptions = z.infer<typeof options>;

export type GatewayMessage =
  /** Arguments after the rescue's CLI command. */
  | { readonly via: 'cli'; readonly text: string; readonly args: readonly string[] }
  | { readonly via: 'rpc'; readonly text: string; readonly params: GatewaySendParams };

/**
 * How one alert leaves: straight to the Bot API as the rescue's own Telegram bot (no Gateway needed, up or
 * down, well under a second), the rescue's CLI (`message send`; on OpenClaw 2026.9.x it routes Telegram
 * through the running Gateway), or the rescue's `send` RPC (needs it running).
 */
export type GatewayRoute =
  | { readonly via: 'bot-api'; readonly bot: TelegramBot }
  | { readonly via: 'cli' | 'rpc' };

interface GatewaySendParams {
  readonly to: string;
  readonly message: string;
  readonly channel: string;
  readonly accountId?: string;
  readonly idempotencyKey: string;
}

/** Channels the Gateway CLI delivers itself from the rescue's config (Clawdbot 2026.1.x even with that Gateway down). */
const DIRECT_CHANNELS = new Set(['telegram', 'discord', 'slack', 'signal', 'imessage', 'msteams']);
/** Short enough for every chat channel's single-message limit (Discord's 2000 is the lowest). */
const MESSAGE_CHARS = 2000;
/** callGateway needs its own bound; the attempt's signal usually ends the wait sooner. */
const RPC_TIMEOUT_MS = 30_000;

/**
 * A message through the rescue Gateway's own channels, so alerts reach the owner where the bot talks to
 * them: for Telegram the Bot API directly with the rescue's bot token (read from its config at each
 * attempt, never logged), its CLI (`message send`) for the other channels it delivers, its `send` RPC for
 * the rest (WhatsApp).
 */
export const gateway: ProviderDefinition<GatewayOptions, GatewayMessage> = {
  type: 'gateway',
  options,
  secrets: () => [],
  format(alert, opts) {
    const text = withChatCommands(alert);
    const via = opts.via === 'cli' || opts.via === 'rpc' ? opts.via : gatewayFallback(opts.channel);
    if (via === 'cli') {
      const account = opts.account === undefined ? [] : ['--account', opts.account];
      return { via, text, args: ['message', 'send', '--channel', opts.channel, '--target', opts.target, '--message', text, ...account, '--json'] };
    }
    const accountId = opts.account === undefined ? {} : { accountId: opts.account };
    return { via, text, params: { to: opts.target, message: text, channel: opts.channel, ...accountId, idempotencyKey: alert.idempotencyKey } };
  },
  async send(message, opts, context) {
    const route = await gatewayRoute(opts, requireRescue(context));
    if (route.via === 'bot-api') return sendByBotApi(message.text, opts, route.bot, context.signal);
    if (message.via === 'cli') return sendByCli(message.args, opts, requireRescue(context), context);
    return sendByRpc(message.params, requireRescue(context), context.signal);
  },
  async route(opts, context) {
    const route = await gatewayRoute(opts, requireRescue(context));
    return describeRoute(route, opts);
  },
};

function gatewayFallback(channel: string): 'cli' | 'rpc' {
  return DIRECT_CHANNELS.has(channel) ? 'cli' : 'rpc';
}

function requireRescue(context: Pick<SendContext, 'rescueGateway'>): GatewayAccess {
  if (context.rescueGateway) return context.rescueGateway;
  throw new DeliveryError('the rescue Gateway is not known to lifeguard, so the gateway provider has nothing to send through', false);
}

/**
 * The route for this attempt. `auto` goes straight to the Bot API whenever the rescue config names its
 * Telegram bot: faster than any Gateway path, and it works with both Gateways down.
 */
export async function gatewayRoute(opts: GatewayOptions, rescue: GatewayAccess): Promise<GatewayRoute> {
  if (opts.via === 'cli' || opts.via === 'rpc') return { via: opts.via };
  const bot = opts.channel === 'telegram' ? await rescueTelegramBot(opts, rescue) : undefined;
  if (bot) return { via: 'bot-api', bot };
  if (opts.via === 'bot-api') {
    const why = opts.channel === 'telegram' ? `the rescue config (${rescue.configPath}) names no Telegram bot token` : `only Telegram has a direct route, not "${opts.channel}"`;
    throw new DeliveryError(`gateway provider via bot-api: ${why}`, false);
  }
  return { via: gatewayFallback(opts.channel) };
}

async function rescueTelegramBot(opts: GatewayOptions, rescue: GatewayAccess): Promise<TelegramBot | undefined> {
  const config = await readGatewayConfigObject(rescue.configPath);
  const bot = config ? await telegramBotOf(config, rescue.env, opts.account) : undefined;
  return bot && { botToken: bot.botToken, apiRoot: bot.apiRoot ?? opts.apiRoot };
}

/** One line for `lifeguard notify test`: which way this provider's alerts leave. Names no token. */
export function describeRoute(route: GatewayRoute, opts: Pick<GatewayOptions, 'channel'>): string {
  if (route.via === 'bot-api') return `Telegram Bot API directly as the rescue's bot (${new URL(route.bot.apiRoot ?? TELEGRAM_API).host}), Gateways up or down`;
  if (route.via === 'cli') return `the rescue Gateway CLI (message send --channel ${opts.channel})`;
  return `the rescue Gateway's send RPC (${opts.channel}; needs the rescue running)`;
}

/** Plain text (no parse mode): nothing in an alert can then be refused as bad markup. */
async function sendByBotApi(text: string, opts: GatewayOptions, bot: TelegramBot, signal: AbortSignal): Promise<void> {
  const request = jsonRequest(joinUrl(bot.apiRoot ?? TELEGRAM_API, `bot${bot.botToken}/sendMessage`), {
    chat_id: opts.target, text, link_preview_options: { is_disabled: true },
  });
  await sendHttp(request, signal, { secrets: [bot.botToken], checkBody: notOk });
}

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

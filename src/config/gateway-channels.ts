import { readFile } from 'node:fs/promises';
import JSON5 from 'json5';
import { readTextIfExists } from '../core/fs.js';

/** A Telegram bot as a Gateway config names it: the token, and the Bot API root where one is set (OpenClaw). */
export interface TelegramBot {
  readonly botToken: string;
  /** `channels.telegram[.accounts.<id>].apiRoot`; undefined means https://api.telegram.org. */
  readonly apiRoot: string | undefined;
}

/** What a Gateway config says about its messaging channels, for `lifeguard check` and the gateway provider. */
export interface ChannelFacts {
  /** Channels configured and not disabled, e.g. `["telegram"]`. */
  readonly channels: readonly string[];
  /** Every Telegram bot token the config names (top level and accounts). */
  readonly telegramTokens: readonly string[];
  /** Who the Gateway treats as its owner: `commands.ownerAllowFrom` (OpenClaw), e.g. `["telegram:123"]`. */
  readonly owners: readonly string[];
}

export const TELEGRAM_API = 'https://api.telegram.org';

type Env = Readonly<Record<string, string | undefined>>;

/** The parsed Gateway config, or undefined when it is missing or unreadable (the caller reports its own way). */
export async function readGatewayConfigObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const text = await readTextIfExists(path);
    const parsed: unknown = text === undefined ? undefined : JSON5.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Telegram bot a Gateway sends as, for one account (the default when omitted): the account's
 * `botToken` or `tokenFile`, else the channel's, else `TELEGRAM_BOT_TOKEN` in the Gateway's environment
 * (default account only), as the Gateways themselves resolve it. `${VAR}` references are substituted.
 */
export async function telegramBotOf(config: Record<string, unknown>, env: Env, account?: string): Promise<TelegramBot | undefined> {
  const configured = record(config.channels).telegram;
  if (!isRecord(configured) || configured.enabled === false) return undefined;
  const channel = configured;
  const scoped = account === undefined ? {} : record(record(channel.accounts)[account]);
  const token = (await tokenIn(scoped, env)) ?? (await tokenIn(channel, env)) ?? (account === undefined ? env.TELEGRAM_BOT_TOKEN : undefined);
  if (!token) return undefined;
  const apiRoot = stringValue(scoped.apiRoot, env) ?? stringValue(channel.apiRoot, env);
  return { botToken: token, apiRoot };
}

export async function channelFactsOf(config: Record<string, unknown>, env: Env): Promise<ChannelFacts> {
  const channels = record(config.channels);
  const names = Object.entries(channels).filter(([, value]) => isRecord(value) && value.enabled !== false).map(([name]) => name);
  const telegram = record(channels.telegram);
  const tokens = new Set<string>();
  const top = await telegramBotOf(config, env);
  if (top) tokens.add(top.botToken);
  for (const account of Object.keys(record(telegram.accounts))) {
    const bot = await telegramBotOf(config, env, account);
    if (bot) tokens.add(bot.botToken);
  }
  const owners = record(config.commands).ownerAllowFrom;
  return {
    channels: names,
    telegramTokens: [...tokens],
    owners: Array.isArray(owners) ? owners.map(String) : [],
  };
}

async function tokenIn(scope: Record<string, unknown>, env: Env): Promise<string | undefined> {
  const inline = stringValue(scope.botToken, env);
  if (inline) return inline;
  const file = stringValue(scope.tokenFile, env);
  if (!file) return undefined;
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

function stringValue(value: unknown, env: Env): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const ref = /^\$\{([A-Z0-9_]+)\}$/.exec(value);
  return ref ? env[ref[1]!] || undefined : value;
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What `lifeguard check` says about the rescue bot the owner talks to: it needs a channel of its own, its
 * own bot (two pollers on one token steal each other's updates), and an owner who may send the writes
 * (OpenClaw: the rescue's `commands.ownerAllowFrom`; Clawdbot, which has no owner flag: `chat.ownerIds`).
 */
export function rescueChannelWarnings(
  rescue: ChannelFacts & { readonly configPath: string }, main: ChannelFacts, flavour: 'openclaw' | 'clawdbot', chatOwnerIds: readonly string[],
): string[] {
  const guide = 'see docs/chat-commands.md, "Connecting the rescue bot"';
  if (rescue.channels.length === 0) return [`the rescue Gateway has no messaging channel (channels in ${rescue.configPath}): you cannot reach the rescue bot from your phone; ${guide}`];
  const warnings: string[] = [];
  if (rescue.telegramTokens.some((token) => main.telegramTokens.includes(token))) {
    warnings.push(`the rescue and the main use the same Telegram bot token: two pollers on one token steal each other's updates. Give the rescue its own bot (@BotFather, /newbot); ${guide}`);
  }
  const owner = flavour === 'openclaw'
    ? rescue.owners.length > 0 || undefined
    : chatOwnerIds.length > 0 || undefined;
  if (!owner) {
    const where = flavour === 'openclaw' ? `commands.ownerAllowFrom: ["telegram:<your user id>"] in ${rescue.configPath}` : `chat: { ownerIds: ['telegram:<your user id>'] } in lifeguard.json5`;
    warnings.push(`no owner configured for the rescue bot, so nobody may send /lifeguard restore or restart from a phone: set ${where}`);
  }
  return warnings;
}

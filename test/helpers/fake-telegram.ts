/**
 * A loopback Telegram Bot API, just enough for the Telegram channel of a real OpenClaw or Clawdbot
 * Gateway: the calls both make at start (getMe, deleteWebhook, getWebhookInfo, set/deleteMyCommands),
 * getUpdates with long polling and offsets, and what a reply uses (sendMessage, sendChatAction,
 * setMessageReaction, editMessageText, answerCallbackQuery, getChat). Update ids only grow, as Telegram's
 * do (a Gateway keeps its offset and would drop updates numbered below it).
 *
 * The test side injects what a user writes (`userSays`) and reads what each bot sent (`sent`,
 * `waitForSent`). Like real Telegram, a text with `parse_mode: "HTML"` whose markup Telegram would refuse
 * (an unknown or unbalanced tag, an unknown entity) gets `400 Bad Request: can't parse entities`, so a
 * reply that only a lenient fake accepts fails the test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TelegramUser {
  readonly id: number;
  readonly first_name: string;
  readonly username?: string;
}

/** One message a bot sent (or edited), as the owner's phone would show it. */
export interface SentMessage {
  readonly bot: string;
  readonly chatId: string;
  readonly messageId: number;
  readonly text: string;
  readonly parseMode: string | undefined;
  readonly method: 'sendMessage' | 'editMessageText';
  readonly at: number;
}

/** One Bot API call as the fake received it, token left out. */
export interface ApiCall {
  readonly bot: string;
  readonly method: string;
  readonly status: number;
  readonly at: number;
}

interface Bot {
  readonly token: string;
  readonly name: string;
  readonly me: { id: number; is_bot: true; first_name: string; username: string };
  readonly updates: Array<{ update_id: number } & Record<string, unknown>>;
  nextUpdateId: number;
  /** Long polls waiting for an update. */
  readonly waiters: Set<() => void>;
  lastPollAt: number | undefined;
}

const MAX_TIMEOUT_S = 50;

export class FakeTelegram {
  readonly calls: ApiCall[] = [];
  readonly sentMessages: SentMessage[] = [];
  private readonly bots = new Map<string, Bot>();
  private nextMessageId = 1;
  private server: Server | undefined;
  private port = 0;

  private constructor() {}

  /** Listens on 127.0.0.1 (a free port unless one is given, e.g. to come back on the same one). */
  static async start(port = 0): Promise<FakeTelegram> {
    const fake = new FakeTelegram();
    await fake.listen(port);
    return fake;
  }

  /** The `apiRoot` a Gateway is given: `http://127.0.0.1:<port>`. */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Registers a bot; its token must look like BotFather's, since both Gateways check the shape. */
  addBot(name: string, token: string, id: number): void {
    if (!/^\d+:[A-Za-z0-9_-]{30,}$/.test(token)) throw new Error(`not a bot token shape: ${name}`);
    this.bots.set(token, {
      token, name, me: { id, is_bot: true, first_name: name, username: `${name.replace(/[^A-Za-z0-9]/g, '_')}_bot` },
      updates: [], nextUpdateId: 100_001, waiters: new Set(), lastPollAt: undefined,
    });
  }

  /** A private-chat message from `user` to the bot `botName`, delivered at the bot's next getUpdates. */
  userSays(botName: string, user: TelegramUser, text: string): number {
    const bot = this.botNamed(botName);
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
    const message = {
      message_id: this.nextMessageId++,
      from: { ...user, is_bot: false, language_code: 'en' },
      chat: { id: user.id, type: 'private', first_name: user.first_name, ...(user.username ? { username: user.username } : {}) },
      date: Math.floor(Date.now() / 1000),
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
    };
    const updateId = bot.nextUpdateId++;
    bot.updates.push({ update_id: updateId, message });
    for (const wake of bot.waiters) wake();
    return message.message_id;
  }

  /** What `botName` sent to `chatId` (every chat when omitted), oldest first. */
  sent(botName: string, chatId?: number | string): SentMessage[] {
    return this.sentMessages.filter((m) => m.bot === botName && (chatId === undefined || m.chatId === String(chatId)));
  }

  /** Waits for a message from `botName` to `chatId`, sent at or after `since`, that `accept` takes. */
  async waitForSent(
    botName: string, chatId: number | string, accept: (m: SentMessage) => boolean, options: { since: number; timeoutMs: number },
  ): Promise<SentMessage> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const found = this.sent(botName, chatId).find((m) => m.at >= options.since && accept(m));
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.sent(botName, chatId).filter((m) => m.at >= options.since).map((m) => m.text.slice(0, 200));
        throw new Error(`no matching message from ${botName} to ${chatId} within ${options.timeoutMs} ms; sent meanwhile: ${JSON.stringify(seen)}`);
      }
      await sleep(200);
    }
  }

  /** When `botName` last asked for updates (a Gateway's poller is alive while this keeps moving). */
  lastPollAt(botName: string): number | undefined {
    return this.botNamed(botName).lastPollAt;
  }

  /** Stops answering (the Bot API unreachable: connections refused); `resume()` comes back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const bot of this.bots.values()) for (const wake of bot.waiters) wake();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async resume(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  private botNamed(name: string): Bot {
    const bot = [...this.bots.values()].find((b) => b.name === name);
    if (!bot) throw new Error(`no bot named ${name}`);
    return bot;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { ok: false, error_code: 500, description: `fake: ${String(error)}` });
    }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const params = { ...Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams), ...(await readParams(req)) };
    const bot = match ? this.bots.get(decodeURIComponent(match[1]!)) : undefined;
    const method = match?.[2] ?? '(none)';
    const answer = (status: number, body: Record<string, unknown>) => {
      this.calls.push({ bot: bot?.name ?? '(unknown token)', method, status, at: Date.now() });
      reply(res, status, body);
    };
    if (!bot) return answer(match ? 401 : 404, { ok: false, error_code: match ? 401 : 404, description: match ? 'Unauthorized' : 'Not Found' });
    switch (method) {
      case 'getMe':
        return answer(200, { ok: true, result: { ...bot.me, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
      case 'deleteWebhook':
      case 'setMyCommands':
      case 'deleteMyCommands':
      case 'sendChatAction':
      case 'setMessageReaction':
      case 'answerCallbackQuery':
        return answer(200, { ok: true, result: true });
      case 'getMyCommands':
        return answer(200, { ok: true, result: [] });
      case 'getWebhookInfo':
        return answer(200, { ok: true, result: { url: '', has_custom_certificate: false, pending_update_count: bot.updates.length } });
      case 'getChat': {
        const id = Number(params.chat_id);
        return answer(200, { ok: true, result: { id, type: id > 0 ? 'private' : 'supergroup', first_name: 'owner' } });
      }
      case 'getUpdates':
        return answer(200, { ok: true, result: await this.poll(bot, params, req) });
      case 'sendMessage':
      case 'editMessageText': {
        const text = String(params.text ?? '');
        const parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
        if (!text.trim()) return answer(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
        if (parseMode === 'HTML') {
          const problem = htmlProblem(text);
          if (problem) return answer(400, { ok: false, error_code: 400, description: `Bad Request: can't parse entities: ${problem}` });
        }
        const messageId = method === 'editMessageText' ? Number(params.message_id) : this.nextMessageId++;
        this.sentMessages.push({ bot: bot.name, chatId: String(params.chat_id), messageId, text, parseMode, method, at: Date.now() });
        const result = { message_id: messageId, from: bot.me, chat: { id: Number(params.chat_id), type: 'private' }, date: Math.floor(Date.now() / 1000), text };
        return answer(200, { ok: true, result });
      }
      default:
        return answer(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  /** getUpdates: confirms everything below `offset`, then answers at once or after up to `timeout` seconds. */
  private async poll(bot: Bot, params: Record<string, unknown>, req: IncomingMessage): Promise<unknown[]> {
    bot.lastPollAt = Date.now();
    const offset = Number(params.offset ?? 0);
    if (offset > 0) bot.updates.splice(0, bot.updates.length, ...bot.updates.filter((u) => u.update_id >= offset));
    const timeoutS = Math.min(MAX_TIMEOUT_S, Math.max(0, Number(params.timeout ?? 0)));
    if (bot.updates.length === 0 && timeoutS > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          bot.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutS * 1000);
        bot.waiters.add(wake);
        req.once('close', wake);
      });
    }
    bot.lastPollAt = Date.now();
    const limit = Math.max(1, Math.min(100, Number(params.limit ?? 100)));
    return bot.updates.slice(0, limit);
  }
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Parameters as Telegram takes them: JSON body, form body, or query string. */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  if (!body) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  if (type.includes('multipart/form-data')) return parseMultipart(body, type);
  return {};
}

function parseMultipart(body: string, type: string): Record<string, unknown> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!boundary) return {};
  const out: Record<string, unknown> = {};
  for (const part of body.split(`--${boundary[1] ?? boundary[2]}`)) {
    const name = /name="([^"]+)"/.exec(part);
    const split = part.indexOf('\r\n\r\n');
    if (name && split >= 0) out[name[1]!] = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return out;
}

/** Tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style). */
const TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const ENTITIES = new Set(['lt', 'gt', 'amp', 'quot']);

/** Why Telegram would refuse `text` as HTML, or undefined when it would take it. */
export function htmlProblem(text: string): string | undefined {
  const open: string[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '&') {
      const entity = /^&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/.exec(text.slice(i));
      if (entity && !entity[1]!.startsWith('#') && !ENTITIES.has(entity[1]!)) return `Unsupported HTML entity "&${entity[1]};" at byte offset ${i}`;
      continue;
    }
    if (ch !== '<') continue;
    const tag = /^<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:="[^"]*"|='[^']*')?)*)\s*>/.exec(text.slice(i));
    if (!tag) return `Unsupported start tag at byte offset ${i}: a "<" that is not a tag must be sent as &lt;`;
    const [whole, closing, rawName] = tag;
    const name = rawName!.toLowerCase();
    if (!TAGS.has(name)) return `Unsupported start tag "${name}" at byte offset ${i}`;
    if (closing) {
      if (open.pop() !== name) return `Unexpected end tag "${name}" at byte offset ${i}`;
    } else {
      open.push(name);
    }
    i += whole.length - 1;
  }
  return open.length > 0 ? `Can't find end tag corresponding to start tag "${open[open.length - 1]}"` : undefined;
}

/** The text as the phone shows it: HTML markup removed and entities decoded. */
export function visibleText(message: Pick<SentMessage, 'text' | 'parseMode'>): string {
  if (message.parseMode !== 'HTML') return message.text;
  return message.text
    .replace(/<[^>]+>/g, '')
    .replace(/&#x([0-9a-fA-F]+);/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#([0-9]+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

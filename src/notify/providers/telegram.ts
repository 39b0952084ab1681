import { z } from 'zod';
import { plainAlertText, renderAlertText, type Markup } from '../alert-text.js';
import { baseUrlSecrets, httpUrl, joinUrl, jsonRequest, sendHttp } from '../http.js';
import type { HttpRequestMessage, ProviderDefinition } from '../types.js';

const options = z.strictObject({
  botToken: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'must look like 123456789:AAH... (the token @BotFather gave you)')
    .describe('the bot token from @BotFather, like 123456789:AAH...'),
  chatId: z
    .union([z.int(), z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{4,})$/)], {
      error: 'must be a numeric chat id (e.g. 123456789 or -1001234567890) or a @channelusername',
    })
    .transform(String)
    .describe('where to send: your numeric chat id (ask @userinfobot), a group id (-100...), or @channelname'),
  apiBaseUrl: httpUrl.default('https://api.telegram.org'),
  /** A forum topic of a supergroup. */
  messageThreadId: z.int().positive().optional(),
  disableNotification: z.boolean().default(false),
});
type TelegramOptions = z.infer<typeof options>;

// Telegram's HTML mode wants exactly these three escaped; anything else unknown is refused with a 400.
const escapeHtml = (raw: string) => raw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const HTML: Markup = {
  text: escapeHtml,
  bold: (raw) => `<b>${escapeHtml(raw)}</b>`,
  code: (raw) => `<code>${escapeHtml(raw)}</code>`,
};
/** Telegram's limit for one message. */
const MESSAGE_CHARS = 4096;

/** The Bot API's sendMessage. The token is part of the URL, never of the body. */
export const telegram: ProviderDefinition<TelegramOptions, HttpRequestMessage> = {
  type: 'telegram',
  options,
  secrets: (opts) => [opts.botToken, ...baseUrlSecrets(opts.apiBaseUrl)],
  format(alert, opts) {
    const html = renderAlertText(alert, { markup: HTML, maxLength: MESSAGE_CHARS, withHeadline: true });
    return jsonRequest(joinUrl(opts.apiBaseUrl, `bot${opts.botToken}/sendMessage`), {
      chat_id: opts.chatId,
      ...(html === undefined ? { text: plainAlertText(alert, MESSAGE_CHARS) } : { text: html, parse_mode: 'HTML' }),
      ...(opts.messageThreadId === undefined ? {} : { message_thread_id: opts.messageThreadId }),
      disable_notification: opts.disableNotification,
      link_preview_options: { is_disabled: true },
    });
  },
  send: (message, opts, context) => sendHttp(message, context.signal, { secrets: telegram.secrets(opts), checkBody: notOk }),
};

/** A 200 that is not the Bot API's `{"ok":true}` comes from something else (a proxy, a captive portal). */
export function notOk(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'ok' in parsed && parsed.ok === true) return undefined;
  } catch {
    // not JSON: reported below
  }
  return 'not with the Bot API\'s {"ok":true}';
}

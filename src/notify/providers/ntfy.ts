import { z } from 'zod';
import { isGoodNews, plainAlertText } from '../alert-text.js';
import { baseUrlSecrets, httpUrl, joinUrl, sendHttp, textRequest } from '../http.js';
import type { Alert, HttpRequestMessage, ProviderDefinition, Severity } from '../types.js';

const options = z.strictObject({
  url: httpUrl.default('https://ntfy.sh'),
  topic: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "-" or "_"')
    .describe('the topic your phone subscribes to; on ntfy.sh anyone who knows it can read it, so pick a long random one'),
  /** An access token (tk_...) for a protected topic. */
  token: z.string().min(1, 'must not be empty').optional(),
});
type NtfyOptions = z.infer<typeof options>;

// ntfy priorities: 5 = urgent (long vibration, breaks through Do Not Disturb on request), 3 = default.
const PRIORITIES: Record<Severity, string> = { critical: '5', warning: '4', info: '3' };
// Tags that name an emoji are shown as that emoji in front of the title.
const EMOJI_TAGS: Record<Severity, string> = { critical: 'rotating_light', warning: 'warning', info: 'information_source' };
/** ntfy turns a body over 4096 bytes into an attachment; a character is at most 3 UTF-8 bytes per UTF-16 unit. */
const BODY_CHARS = Math.floor(4096 / 3);

/** An ntfy server (ntfy.sh or your own): title, priority and tags as headers, the message as the body. */
export const ntfy: ProviderDefinition<NtfyOptions, HttpRequestMessage> = {
  type: 'ntfy',
  options,
  secrets: (opts) => [...(opts.token ? [opts.token] : []), ...baseUrlSecrets(opts.url)],
  format(alert, opts) {
    return textRequest(joinUrl(opts.url, opts.topic), plainAlertText(alert, BODY_CHARS, false), {
      Title: headerText(alert.summary),
      Priority: isGoodNews(alert) ? '3' : PRIORITIES[alert.severity],
      Tags: tags(alert).join(','),
      ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
    });
  },
  send: (message, opts, context) => sendHttp(message, context.signal, { secrets: ntfy.secrets(opts) }),
};

function tags(alert: Alert): string[] {
  const emoji = isGoodNews(alert) ? 'white_check_mark' : EMOJI_TAGS[alert.severity];
  const words = ['lifeguard', alert.event, ...(alert.instance === null ? [] : [alert.instance])];
  return [emoji, ...words.map((word) => word.replace(/[^A-Za-z0-9_-]/g, '_'))];
}

/**
 * fetch sends headers as Latin-1 and refuses anything else; ntfy decodes RFC 2047 encoded words, so a
 * summary with an arrow or an umlaut still arrives as written.
 */
function headerText(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(line) ? line : `=?UTF-8?B?${Buffer.from(line, 'utf8').toString('base64')}?=`;
}

import { z } from 'zod';
import { headline, plainAlertText, renderAlertText, type Markup } from '../alert-text.js';
import { credentialUrlSecrets, httpUrl, jsonRequest, sendHttp } from '../http.js';
import type { HttpRequestMessage, ProviderDefinition } from '../types.js';

const options = z.strictObject({
  webhookUrl: httpUrl.describe('the incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)'),
});
type SlackOptions = z.infer<typeof options>;

// Slack's mrkdwn reads &, < and > as entities and links (`<!channel>` pings everyone); nothing else is escapable.
const escapeMrkdwn = (raw: string) => raw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const MRKDWN: Markup = {
  text: escapeMrkdwn,
  bold: (raw) => `*${escapeMrkdwn(raw)}*`,
  code: (raw) => (raw.includes('`') ? escapeMrkdwn(raw) : `\`${escapeMrkdwn(raw)}\``),
};
/** Slack's limit for the text of one section block. */
const SECTION_CHARS = 3000;

/** A Slack incoming webhook: `text` for the notification, one section block with the message. */
export const slack: ProviderDefinition<SlackOptions, HttpRequestMessage> = {
  type: 'slack',
  options,
  secrets: (opts) => credentialUrlSecrets(opts.webhookUrl),
  format(alert, opts) {
    const marked = renderAlertText(alert, { markup: MRKDWN, maxLength: SECTION_CHARS, withHeadline: true });
    const section = marked === undefined
      ? { type: 'plain_text', text: plainAlertText(alert, SECTION_CHARS) }
      : { type: 'mrkdwn', text: marked };
    return jsonRequest(opts.webhookUrl, {
      text: escapeMrkdwn(headline(alert)),
      blocks: [{ type: 'section', text: section }],
      unfurl_links: false,
      unfurl_media: false,
    });
  },
  send: (message, opts, context) => sendHttp(message, context.signal, { secrets: slack.secrets(opts) }),
};

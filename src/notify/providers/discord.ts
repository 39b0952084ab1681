import { z } from 'zod';
import { clip, headline, isGoodNews, plainAlertText, renderAlertText, type Markup } from '../alert-text.js';
import { credentialUrlSecrets, httpUrl, jsonRequest, sendHttp } from '../http.js';
import type { Alert, HttpRequestMessage, ProviderDefinition } from '../types.js';

const options = z.strictObject({
  webhookUrl: httpUrl.describe('the webhook URL from Discord (Channel settings → Integrations → Webhooks)'),
});
type DiscordOptions = z.infer<typeof options>;

// Emphasis, code, spoilers, quotes, headers, masked links and <@mentions>; Discord shows a backslashed one literally.
const escapeMarkdown = (raw: string) => raw.replace(/[\\*_~`|>#[\]<]/g, '\\$&');
const MARKDOWN: Markup = {
  text: escapeMarkdown,
  bold: (raw) => `**${escapeMarkdown(raw)}**`,
  code: (raw) => (raw.includes('`') ? escapeMarkdown(raw) : `\`${raw}\``),
};
/** Discord's limit for an embed description (message content: 2000, which a headline never nears). */
const DESCRIPTION_CHARS = 4096;

const COLORS = { critical: 0xd92d20, warning: 0xf79009, info: 0x2e90fa, good: 0x12b76a } as const;

/** A Discord webhook: the headline as the message (what the phone shows), the rest in one embed. */
export const discord: ProviderDefinition<DiscordOptions, HttpRequestMessage> = {
  type: 'discord',
  options,
  secrets: (opts) => credentialUrlSecrets(opts.webhookUrl),
  format(alert, opts) {
    const time = new Date(alert.at);
    const embed = {
      description: renderAlertText(alert, { markup: MARKDOWN, maxLength: DESCRIPTION_CHARS, withHeadline: false })
        ?? plainAlertText(alert, DESCRIPTION_CHARS, false),
      color: color(alert),
      footer: { text: clip(`lifeguard · ${alert.host}`, 100) },
      ...(Number.isNaN(time.getTime()) ? {} : { timestamp: time.toISOString() }),
    };
    return jsonRequest(opts.webhookUrl, {
      content: escapeMarkdown(headline(alert)),
      embeds: [embed],
      // Text from a Gateway's logs could hold @everyone or a role mention; an alert never pings anyone.
      allowed_mentions: { parse: [] },
    });
  },
  send: (message, opts, context) => sendHttp(message, context.signal, { secrets: discord.secrets(opts) }),
};

function color(alert: Alert): number {
  return isGoodNews(alert) ? COLORS.good : COLORS[alert.severity];
}

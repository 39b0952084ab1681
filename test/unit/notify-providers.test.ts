import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apprise } from '../../src/notify/providers/apprise.js';
import { discord } from '../../src/notify/providers/discord.js';
import { email } from '../../src/notify/providers/email.js';
import { gateway } from '../../src/notify/providers/gateway.js';
import { ntfy } from '../../src/notify/providers/ntfy.js';
import { slack } from '../../src/notify/providers/slack.js';
import { telegram } from '../../src/notify/providers/telegram.js';
import { webhook } from '../../src/notify/providers/webhook.js';
import type { Alert, HttpRequestMessage, ProviderDefinition } from '../../src/notify/types.js';
import { sampleAlert } from '../helpers/sample-alert.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

function render<Options, Message>(definition: ProviderDefinition<Options, Message>, options: unknown, alert: Alert = sampleAlert()): Message {
  return definition.format(alert, definition.options.parse(options));
}

function json(message: HttpRequestMessage): Record<string, any> {
  return JSON.parse(message.body);
}

/** An alert far too long for any chat message: 60 details of 250 characters each. */
function hugeAlert(overrides: Partial<Alert> = {}): Alert {
  const details = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`fact${i}`, `${'x'.repeat(240)} end${i}`]));
  return sampleAlert({ details, ...overrides });
}

describe('every provider', () => {
  const cases: Array<[string, ProviderDefinition<any, any>, unknown]> = [
    ['webhook', webhook, { url: 'https://example.com/hook' }],
    ['slack', slack, { webhookUrl: 'https://hooks.slack.com/services/T1/B2/abcdefabcdefabcdefabcdef' }],
    ['discord', discord, { webhookUrl: 'https://discord.com/api/webhooks/1/tok' }],
    ['telegram', telegram, { botToken: BOT_TOKEN, chatId: 42 }],
    ['ntfy', ntfy, { topic: 'lifeguard-alerts' }],
    ['email', email, { host: 'smtp.example.com', from: 'lg@example.com', to: 'me@example.com' }],
    ['apprise', apprise, { urls: ['tgram://token/chat'] }],
    ['gateway', gateway, { channel: 'telegram', target: '42' }],
  ];
  for (const [type, definition, options] of cases) {
    it(`${type}: format() is pure and says what happened, where, which incident and what to run`, () => {
      const alert = Object.freeze(sampleAlert());
      const parsed = definition.options.parse(options);
      const first = definition.format(alert, parsed);
      assert.deepEqual(definition.format(alert, parsed), first, 'same alert, same message');
      const text = JSON.stringify(first);
      for (const part of ['main Gateway down', 'inc-20261125-0914-main', 'restarted through PM2', 'npx lifeguard logs main', 'vps1']) {
        assert.ok(text.includes(part), `${type} message lacks "${part}": ${text}`);
      }
    });
  }
});

describe('webhook', () => {
  it('posts the whole alert as JSON with an Idempotency-Key header', () => {
    const alert = sampleAlert();
    const message = render(webhook, { url: 'https://example.com/hook', headers: { Authorization: 'Bearer abcdef123456' } }, alert);
    assert.equal(message.method, 'POST');
    assert.equal(message.url, 'https://example.com/hook');
    assert.equal(message.headers['Idempotency-Key'], alert.idempotencyKey);
    assert.equal(message.headers['Content-Type'], 'application/json');
    assert.match(message.headers['User-Agent'] ?? '', /^lifeguard\//);
    assert.equal(message.headers.Authorization, 'Bearer abcdef123456');
    const body = json(message);
    for (const key of ['event', 'incidentId', 'instance', 'severity', 'summary', 'details', 'commands', 'at', 'host', 'idempotencyKey'] as const) {
      assert.deepEqual(body[key], alert[key], key);
    }
    assert.equal(body.version, 1);
    assert.ok(!message.body.includes('abcdef123456'), 'a configured header value stays out of the body');
  });

  it('uses PUT when asked', () => {
    assert.equal(render(webhook, { url: 'https://example.com/hook', method: 'PUT' }).method, 'PUT');
  });
});

describe('slack', () => {
  const options = { webhookUrl: 'https://hooks.slack.com/services/T1/B2/abcdefabcdefabcdefabcdef' };

  it('sends a notification text and one mrkdwn section with bold headline and code commands', () => {
    const body = json(render(slack, options));
    assert.match(body.text, /main Gateway down/);
    assert.equal(body.blocks.length, 1);
    assert.equal(body.blocks[0].text.type, 'mrkdwn');
    assert.match(body.blocks[0].text.text, /^\*🔴 main Gateway down/);
    assert.match(body.blocks[0].text.text, /`npx lifeguard incident show inc-20261125-0914-main`/);
  });

  it('escapes what Slack would read as a mention or a link', () => {
    const message = render(slack, options, sampleAlert({ summary: 'broke <!channel> & <https://evil.example|click>' }));
    assert.ok(!message.body.includes('<!channel>'));
    assert.match(json(message).blocks[0].text.text, /&lt;!channel&gt; &amp; &lt;https/);
  });

  it('fits a section (3000 characters), dropping details from the end but keeping the commands', () => {
    const text: string = json(render(slack, options, hugeAlert())).blocks[0].text.text;
    assert.ok(text.length <= 3000, `${text.length}`);
    assert.match(text, /… \d+ more/);
    assert.match(text, /fact0: x+ end0/);
    assert.match(text, /lifeguard logs main/);
  });
});

describe('discord', () => {
  const options = { webhookUrl: 'https://discord.com/api/webhooks/1/tok' };

  it('puts the headline in the content and the rest in a coloured embed; pings nobody', () => {
    const body = json(render(discord, options));
    assert.match(body.content, /^🔴 main Gateway down/);
    assert.equal(body.embeds.length, 1);
    assert.match(body.embeds[0].description, /instance main · incident inc-20261125-0914-main · host vps1/);
    assert.match(body.embeds[0].description, /`npx lifeguard logs main`/);
    assert.equal(body.embeds[0].color, 0xd92d20);
    assert.equal(body.embeds[0].timestamp, '2026-11-25T09:14:03.120Z');
    assert.deepEqual(body.allowed_mentions, { parse: [] });
  });

  it('shows markdown characters literally', () => {
    const body = json(render(discord, options, sampleAlert({ summary: '**not bold** _nor italic_' })));
    assert.match(body.content, /\\\*\\\*not bold\\\*\\\* \\_nor italic\\_/);
  });

  it('stays within Discord limits: content 2000, embed description 4096', () => {
    const body = json(render(discord, options, hugeAlert({ summary: '*'.repeat(5000) })));
    assert.ok(body.content.length <= 2000, `${body.content.length}`);
    assert.ok(body.embeds[0].description.length <= 4096, `${body.embeds[0].description.length}`);
    assert.match(body.embeds[0].description, /lifeguard logs main/);
  });

  it('colours good news green', () => {
    assert.equal(json(render(discord, options, sampleAlert({ event: 'resolved', severity: 'info' }))).embeds[0].color, 0x12b76a);
  });
});

describe('telegram', () => {
  const options = { botToken: BOT_TOKEN, chatId: -1001234567890 };

  it('calls sendMessage with the token in the URL only, HTML mode, no link previews', () => {
    const message = render(telegram, options);
    assert.equal(message.url, `https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`);
    assert.ok(!message.body.includes(BOT_TOKEN), 'token in the body');
    assert.ok(!JSON.stringify(message.headers).includes(BOT_TOKEN), 'token in a header');
    const body = json(message);
    assert.equal(body.chat_id, '-1001234567890');
    assert.equal(body.parse_mode, 'HTML');
    assert.deepEqual(body.link_preview_options, { is_disabled: true });
    assert.equal(body.disable_notification, false);
    assert.match(body.text, /^<b>🔴 main Gateway down: health RPC unanswered for 6 s<\/b>\n/);
    assert.match(body.text, /<code>npx lifeguard incident show inc-20261125-0914-main<\/code>/);
    assert.match(body.text, /instance main · incident inc-20261125-0914-main · host vps1 · 2026-11-25 09:14:03 UTC/);
  });

  it('escapes HTML so a Gateway message cannot break the markup (Telegram refuses bad HTML)', () => {
    const body = json(render(telegram, options, sampleAlert({ details: { reason: '<script> & "x" </b>' } })));
    assert.match(body.text, /reason: &lt;script&gt; &amp; "x" &lt;\/b&gt;/);
  });

  it('honours apiBaseUrl (with a path prefix), a forum topic and silent delivery', () => {
    const message = render(telegram, { ...options, apiBaseUrl: 'http://127.0.0.1:8081/tg/', messageThreadId: 7, disableNotification: true });
    assert.equal(message.url, `http://127.0.0.1:8081/tg/bot${BOT_TOKEN}/sendMessage`);
    assert.equal(json(message).message_thread_id, 7);
    assert.equal(json(message).disable_notification, true);
  });

  it('fits 4096 characters, dropping details from the end', () => {
    const body = json(render(telegram, options, hugeAlert()));
    assert.ok(body.text.length <= 4096, `${body.text.length}`);
    assert.match(body.text, /… \d+ more/);
    assert.match(body.text, /<code>npx lifeguard logs main<\/code>/);
  });

  it('falls back to plain text, without parse_mode, when even the escaped essentials do not fit', () => {
    const body = json(render(telegram, options, sampleAlert({ commands: Array.from({ length: 5 }, () => '&'.repeat(400)) })));
    assert.equal(body.parse_mode, undefined);
    assert.ok(body.text.length <= 4096, `${body.text.length}`);
    assert.ok(!body.text.includes('&amp;'));
  });
});

describe('ntfy', () => {
  it('posts the text to <url>/<topic> with title, priority and tags; the token only as a header', () => {
    const message = render(ntfy, { topic: 'lg-alerts', token: 'tk_secret123456' });
    assert.equal(message.url, 'https://ntfy.sh/lg-alerts');
    assert.equal(message.headers.Title, 'main Gateway down: health RPC unanswered for 6 s');
    assert.equal(message.headers.Priority, '5');
    assert.equal(message.headers.Tags, 'rotating_light,lifeguard,down,main');
    assert.equal(message.headers.Authorization, 'Bearer tk_secret123456');
    assert.ok(!message.body.includes('tk_secret123456'));
    assert.match(message.body, /^instance main · incident/);
  });

  it('maps severities to priorities, good news to the default priority with a check mark', () => {
    const priority = (alert: Alert) => render(ntfy, { topic: 't' }, alert).headers.Priority;
    assert.equal(priority(sampleAlert({ severity: 'warning' })), '4');
    assert.equal(priority(sampleAlert({ severity: 'info' })), '3');
    const resolved = render(ntfy, { topic: 't' }, sampleAlert({ event: 'resolved', severity: 'critical' }));
    assert.equal(resolved.headers.Priority, '3');
    assert.match(resolved.headers.Tags ?? '', /^white_check_mark,/);
  });

  it('sends no Authorization header without a token, and honours a self-hosted url', () => {
    const message = render(ntfy, { topic: 't', url: 'http://127.0.0.1:2586/' });
    assert.equal(message.url, 'http://127.0.0.1:2586/t');
    assert.equal(message.headers.Authorization, undefined);
  });

  it('encodes a non-ASCII title so fetch can send it and ntfy decodes it back', () => {
    const summary = 'main → down: Größe überschritten 🔥';
    const title = render(ntfy, { topic: 't' }, sampleAlert({ summary })).headers.Title ?? '';
    assert.doesNotThrow(() => new Headers({ Title: title }));
    const [, encoded] = /^=\?UTF-8\?B\?(.+)\?=$/.exec(title) ?? [];
    assert.equal(Buffer.from(encoded ?? '', 'base64').toString('utf8'), summary);
  });

  it('keeps the body under ntfy\'s 4096-byte message limit, even in multi-byte text', () => {
    const details = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'ü€'.repeat(100)]));
    const body = render(ntfy, { topic: 't' }, sampleAlert({ details })).body;
    assert.ok(Buffer.byteLength(body) <= 4096, `${Buffer.byteLength(body)}`);
  });
});

describe('email', () => {
  const options = { host: 'smtp.example.com', user: 'lg', password: 'smtp-pass-123456', from: 'lifeguard <lg@example.com>', to: 'me@example.com' };

  it('writes a filterable subject and a plain-text body, without the password', () => {
    const message = render(email, options);
    assert.equal(message.subject, '[lifeguard] CRITICAL: main Gateway down: health RPC unanswered for 6 s');
    assert.deepEqual(message.to, ['me@example.com']);
    assert.equal(message.from, 'lifeguard <lg@example.com>');
    assert.match(message.text, /^🔴 main Gateway down/);
    assert.match(message.text, /lifeguard incident show inc-20261125-0914-main/);
    assert.equal(message.headers['X-Lifeguard-Incident'], 'inc-20261125-0914-main');
    assert.ok(!JSON.stringify(message).includes('smtp-pass-123456'));
  });

  it('gives a repeated alert the same Message-ID, and threads an incident\'s alerts', () => {
    const first = render(email, options);
    const again = render(email, options);
    const later = render(email, options, sampleAlert({ event: 'recovered', idempotencyKey: 'inc-20261125-0914-main:recovered:1' }));
    assert.equal(again.messageId, first.messageId);
    assert.notEqual(later.messageId, first.messageId);
    assert.equal(later.references, first.references);
    assert.match(first.messageId, /^<lifeguard\.[0-9a-f]{32}@vps1>$/);
  });

  it('takes a list of recipients', () => {
    assert.deepEqual(render(email, { ...options, to: ['a@example.com', 'b@example.com'] }).to, ['a@example.com', 'b@example.com']);
  });
});

describe('apprise', () => {
  it('runs the CLI with title, body and type; the URLs (credentials) go in the environment, not the argv', () => {
    const message = render(apprise, { urls: ['tgram://123:abc/42', 'mailto://u:p@example.com'] });
    assert.equal(message.via, 'cli');
    if (message.via !== 'cli') return;
    const [command, ...args] = message.argv;
    assert.equal(command, 'apprise');
    assert.deepEqual(args.slice(0, 2), ['-t', 'main Gateway down: health RPC unanswered for 6 s']);
    assert.equal(args[2], '-b');
    assert.match(args[3] ?? '', /lifeguard logs main/);
    assert.deepEqual(args.slice(4), ['-n', 'failure']);
    assert.ok(!message.argv.join(' ').includes('tgram://'));
    assert.equal(message.env.APPRISE_URLS, 'tgram://123:abc/42,mailto://u:p@example.com');
  });

  it('posts to an Apprise API server: a stored configuration by key (and tag), or the given URLs', () => {
    const byKey = render(apprise, { apiUrl: 'http://127.0.0.1:8000', key: 'lifeguard', tag: 'ops' }, sampleAlert({ event: 'recovered', severity: 'info' }));
    assert.equal(byKey.via, 'api');
    if (byKey.via !== 'api') return;
    assert.equal(byKey.request.url, 'http://127.0.0.1:8000/notify/lifeguard');
    const body = json(byKey.request);
    assert.equal(body.type, 'success');
    assert.equal(body.tag, 'ops');
    assert.equal(body.format, 'text');
    assert.equal(body.urls, undefined);

    const stateless = render(apprise, { apiUrl: 'http://127.0.0.1:8000/', urls: ['ntfy://t'] }, sampleAlert({ severity: 'warning' }));
    if (stateless.via !== 'api') return assert.fail('expected the API');
    assert.equal(stateless.request.url, 'http://127.0.0.1:8000/notify');
    assert.equal(json(stateless.request).urls, 'ntfy://t');
    assert.equal(json(stateless.request).type, 'warning');
  });
});

describe('gateway', () => {
  it('uses the CLI for a channel the CLI delivers directly (Telegram), with the exact message send arguments', () => {
    const message = render(gateway, { channel: 'telegram', target: '@owner', account: 'rescuebot' });
    assert.equal(message.via, 'cli');
    if (message.via !== 'cli') return;
    const text = message.args[message.args.indexOf('--message') + 1] ?? '';
    assert.deepEqual(message.args, ['message', 'send', '--channel', 'telegram', '--target', '@owner', '--message', text, '--account', 'rescuebot', '--json']);
    assert.match(text, /^🔴 main Gateway down/);
  });

  it('uses the send RPC for WhatsApp, idempotent by the alert\'s key', () => {
    const alert = sampleAlert();
    const message = render(gateway, { channel: 'whatsapp', target: '+15551234567' }, alert);
    assert.equal(message.via, 'rpc');
    if (message.via !== 'rpc') return;
    assert.equal(message.params.to, '+15551234567');
    assert.equal(message.params.channel, 'whatsapp');
    assert.equal(message.params.idempotencyKey, alert.idempotencyKey);
    assert.equal(message.params.accountId, undefined);
    assert.match(message.params.message, /lifeguard logs main/);
  });

  it('follows an explicit via, and keeps the message within 2000 characters', () => {
    const message = render(gateway, { channel: 'telegram', target: '42', via: 'rpc' }, hugeAlert());
    assert.equal(message.via, 'rpc');
    if (message.via !== 'rpc') return;
    assert.ok(message.params.message.length <= 2000, `${message.params.message.length}`);
    assert.match(message.params.message, /\n\nReply with:\n\/lifeguard diagnose$/, 'the chat commands survive the cut');
  });

  it('ends with the /lifeguard commands to send now, answered by the rescue bot without a model', () => {
    const text = (alert: ReturnType<typeof sampleAlert>) => {
      const message = render(gateway, { channel: 'whatsapp', target: '+15551234567' }, alert);
      return message.via === 'rpc' ? message.params.message : '';
    };
    const id = 'main-20261125-210347Z';
    const configBroken = sampleAlert({ incidentId: id, details: { state: 'down', classification: 'config-invalid' }, commands: [`npx lifeguard incident show ${id}`] });
    assert.match(text(configBroken), /\n\nReply with:\n\/lifeguard diagnose\n\/lifeguard restore$/);
    const crash = sampleAlert({ incidentId: id, commands: [`npx lifeguard incident show ${id}`, `npx lifeguard incident ack ${id}`] });
    assert.match(text(crash), new RegExp(`\n\nReply with:\n/lifeguard diagnose\n/lifeguard ack ${id}$`));
    assert.match(text(sampleAlert({ event: 'resolved', severity: 'info' })), /\n\nReply with:\n\/lifeguard status$/);
    // An alert about the rescue itself: its chat would not answer.
    assert.doesNotMatch(text(sampleAlert({ instance: 'rescue' })), /\/lifeguard/);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { apprise } from '../../src/notify/providers/apprise.js';
import { discord } from '../../src/notify/providers/discord.js';
import { email } from '../../src/notify/providers/email.js';
import { gateway } from '../../src/notify/providers/gateway.js';
import { ntfy } from '../../src/notify/providers/ntfy.js';
import { slack } from '../../src/notify/providers/slack.js';
import { telegram } from '../../src/notify/providers/telegram.js';
import { webhook } from '../../src/notify/providers/webhook.js';
import { DeliveryError, type Alert, type GatewayAccess, type ProviderDefinition, type SendContext } from '../../src/notify/types.js';
import { FakeTelegram } from '../helpers/fake-telegram.js';
import { Receiver } from '../helpers/receiver.js';
import { sampleAlert } from '../helpers/sample-alert.js';
import { tempDir } from '../helpers/temp-dir.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

function context(overrides: Partial<SendContext> = {}, timeoutMs = 5_000): SendContext {
  return { signal: AbortSignal.timeout(timeoutMs), env: { PATH: process.env.PATH, HOME: process.env.HOME }, ...overrides };
}

async function deliver<Options, Message>(definition: ProviderDefinition<Options, Message>, rawOptions: unknown, ctx: SendContext = context(), alert: Alert = sampleAlert()): Promise<void> {
  const options = definition.options.parse(rawOptions);
  await definition.send(definition.format(alert, options), options, ctx);
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DeliveryError, `not a DeliveryError: ${String(error)}`);
    return error;
  }
  return assert.fail('delivery succeeded, expected a failure');
}

describe('HTTP providers against a loopback server', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await Receiver.start();
  });
  after(() => receiver.down());
  const answer = (status: number, body = '') => {
    receiver.mode = 'ok';
    receiver.reply = () => ({ status, body });
  };
  const last = () => receiver.requests.at(-1)!;

  it('webhook: a 2xx is a delivery, and the receiver gets the JSON and the Idempotency-Key', async () => {
    answer(204);
    const alert = sampleAlert();
    await deliver(webhook, { url: receiver.url('/hook?key=abc') }, context(), alert);
    assert.equal(last().method, 'POST');
    assert.equal(last().path, '/hook?key=abc');
    assert.equal(last().headers['idempotency-key'], alert.idempotencyKey);
    assert.equal(last().headers['content-type'], 'application/json');
    assert.equal(JSON.parse(last().body).incidentId, alert.incidentId);
  });

  it('a 500 is retryable and quotes the receiver, shortly', async () => {
    answer(500, `database on fire ${'!'.repeat(5_000)}`);
    const error = await failure(deliver(webhook, { url: receiver.url('/hook') }));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 500);
    assert.match(error.message, /answered 500: database on fire/);
    assert.ok(error.message.length < 300, `${error.message.length}`);
  });

  it('a 429 is retryable', async () => {
    answer(429, 'rate_limited');
    const error = await failure(deliver(slack, { webhookUrl: receiver.url('/services/T/B/x') }));
    assert.equal(error.retryable, true);
    assert.equal(error.status, 429);
  });

  it('a 400 is not retryable: the request itself is wrong', async () => {
    answer(400, 'invalid_payload');
    const error = await failure(deliver(discord, { webhookUrl: receiver.url('/api/webhooks/1/tok') }));
    assert.equal(error.retryable, false);
    assert.equal(error.status, 400);
    assert.match(error.message, /invalid_payload/);
  });

  it('never names the webhook path (the credential) in an error, only the origin', async () => {
    answer(404, 'no_service');
    const error = await failure(deliver(slack, { webhookUrl: receiver.url('/services/T0/B0/abcdefabcdefabcdefabcdef') }));
    assert.match(error.message, new RegExp(`^http://127\\.0\\.0\\.1:${receiver.port}: answered 404`));
    assert.doesNotMatch(error.message, /abcdefabcdef/);
  });

  it('a redirect is not retryable: it asks for the final URL in the config', async () => {
    answer(301);
    const error = await failure(deliver(webhook, { url: receiver.url('/old-hook') }));
    assert.equal(error.retryable, false);
    assert.match(error.message, /answered 301, a redirect: configure the URL it redirects to/);
  });

  it('telegram: {"ok":true} is a delivery, posted to /bot<token>/sendMessage', async () => {
    answer(200, '{"ok":true,"result":{"message_id":7}}');
    await deliver(telegram, { botToken: BOT_TOKEN, chatId: 42, apiBaseUrl: receiver.url() });
    assert.equal(last().path, `/bot${BOT_TOKEN}/sendMessage`);
    assert.equal(JSON.parse(last().body).chat_id, '42');
  });

  it('telegram: a 200 with garbage (a proxy, a captive portal) is a retryable failure', async () => {
    answer(200, '<html>Please log in to the hotel Wi-Fi</html>');
    const error = await failure(deliver(telegram, { botToken: BOT_TOKEN, chatId: 42, apiBaseUrl: receiver.url() }));
    assert.equal(error.retryable, true);
    assert.match(error.message, /answered 200 but not with the Bot API's \{"ok":true\}/);
  });

  it('telegram: a refusal that echoes the URL never shows the bot token', async () => {
    receiver.mode = 'ok';
    receiver.reply = (request) => ({ status: 404, body: `{"ok":false,"description":"Not Found: ${request.path}"}` });
    const error = await failure(deliver(telegram, { botToken: BOT_TOKEN, chatId: 42, apiBaseUrl: receiver.url() }));
    assert.equal(error.retryable, false);
    assert.ok(!error.message.includes(BOT_TOKEN), error.message);
    assert.ok(!error.message.includes('AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'), error.message);
    assert.match(error.message, /\[redacted\]/);
  });

  it('a receiver that never answers is aborted by the attempt\'s signal, retryably', async () => {
    receiver.mode = 'hang';
    const started = Date.now();
    const error = await failure(deliver(webhook, { url: receiver.url('/hook') }, context({}, 300)));
    assert.equal(error.retryable, true);
    assert.match(error.message, /no answer before the attempt timed out/);
    assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
  });

  it('ntfy: posts to the topic with title, priority, tags and the bearer token', async () => {
    answer(200, '{"id":"abc"}');
    await deliver(ntfy, { url: receiver.url(), topic: 'lg-alerts', token: 'tk_0123456789' });
    assert.equal(last().path, '/lg-alerts');
    assert.equal(last().headers.priority, '5');
    assert.equal(last().headers.title, 'main Gateway down: health RPC unanswered for 6 s');
    assert.equal(last().headers.authorization, 'Bearer tk_0123456789');
    assert.match(last().body, /lifeguard logs main/);
  });

  it('apprise API: a 424 (one of its services failed) is retryable', async () => {
    answer(424, 'one or more notifications could not be sent');
    const error = await failure(deliver(apprise, { apiUrl: receiver.url(), key: 'lifeguard' }));
    assert.equal(error.retryable, true);
    assert.equal(last().path, '/notify/lifeguard');
  });

  it('a refused connection is retryable and says why', async () => {
    const gone = await Receiver.start();
    await gone.down();
    const error = await failure(deliver(webhook, { url: gone.url('/hook') }));
    assert.equal(error.retryable, true);
    assert.match(error.message, /ECONNREFUSED/);
  });
});

/** A stand-in CLI: records its argv and environment next to itself, then behaves as the file `mode` says. */
function fakeCli(dir: string) {
  const script = join(dir, 'fake-cli.mjs');
  writeFileSync(script, `#!${process.execPath}
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
const here = new URL('.', import.meta.url).pathname;
writeFileSync(here + 'record.json', JSON.stringify({ argv: process.argv.slice(2), env: process.env }));
const mode = existsSync(here + 'mode') ? readFileSync(here + 'mode', 'utf8') : 'ok';
if (mode === 'ok') console.log('{"ok":true}');
if (mode === 'unknown-channel') { console.error('Error: Unknown channel: telegram'); process.exit(1); }
if (mode === 'fail') { console.error('send failed: ETIMEDOUT api.telegram.org'); process.exit(1); }
if (mode === 'usage') { console.error('Usage: apprise [OPTIONS] SERVER_URL'); process.exit(2); }
if (mode === 'hang') setInterval(() => {}, 1_000);
`);
  chmodSync(script, 0o755);
  return {
    script,
    setMode: (mode: string) => writeFileSync(join(dir, 'mode'), mode),
    record: (): { argv: string[]; env: Record<string, string> } => JSON.parse(readFileSync(join(dir, 'record.json'), 'utf8')),
    reset: () => rmSync(join(dir, 'record.json'), { force: true }),
  };
}

describe('gateway provider, CLI path', () => {
  const cli = fakeCli(tempDir('lifeguard-notify-gw-'));
  const rescue: GatewayAccess = {
    command: [process.execPath, cli.script],
    env: { OPENCLAW_CONFIG_PATH: '/srv/rescue/openclaw.json', OPENCLAW_STATE_DIR: '/srv/rescue/state' },
    url: 'ws://127.0.0.1:1',
    token: 'rescue-token-0123456789',
    configPath: '/nonexistent/rescue/openclaw.json',
  };
  const withRescue = (timeoutMs?: number) =>
    context({ rescueGateway: rescue, env: { PATH: '/usr/bin:/bin', HOME: '/home/owner', LIFEGUARD_SECRET: 'do-not-pass', OPENAI_API_KEY: 'sk-x' } }, timeoutMs);

  it('runs `<rescue CLI> message send ... --json` with PATH, HOME and the rescue\'s own environment only', async () => {
    cli.setMode('ok');
    await deliver(gateway, { channel: 'telegram', target: '@owner', account: 'rescue' }, withRescue());
    const { argv, env } = cli.record();
    assert.deepEqual(argv.slice(0, 6), ['message', 'send', '--channel', 'telegram', '--target', '@owner']);
    assert.equal(argv[6], '--message');
    assert.match(argv[7] ?? '', /^🔴 main Gateway down/);
    assert.deepEqual(argv.slice(8), ['--account', 'rescue', '--json']);
    assert.equal(env.PATH, '/usr/bin:/bin');
    assert.equal(env.HOME, '/home/owner');
    assert.equal(env.OPENCLAW_CONFIG_PATH, '/srv/rescue/openclaw.json');
    assert.equal(env.LIFEGUARD_SECRET, undefined);
    assert.equal(env.OPENAI_API_KEY, undefined);
  });

  it('a channel the rescue does not have is not retryable, and says so', async () => {
    cli.setMode('unknown-channel');
    const error = await failure(deliver(gateway, { channel: 'telegram', target: '42' }, withRescue()));
    assert.equal(error.retryable, false);
    assert.match(error.message, /exited with 1: Error: Unknown channel: telegram \(the rescue Gateway has no "telegram" channel configured\)/);
  });

  it('any other failed send is retryable', async () => {
    cli.setMode('fail');
    const error = await failure(deliver(gateway, { channel: 'telegram', target: '42' }, withRescue()));
    assert.equal(error.retryable, true);
    assert.match(error.message, /ETIMEDOUT api\.telegram\.org/);
  });

  it('a CLI that hangs is killed when the attempt times out, retryably', async () => {
    cli.setMode('hang');
    const started = Date.now();
    const error = await failure(deliver(gateway, { channel: 'telegram', target: '42' }, withRescue(500)));
    assert.equal(error.retryable, true);
    assert.match(error.message, /timed out/);
    assert.ok(Date.now() - started < 3_000);
  });

  it('without a known rescue Gateway there is nothing to send through: not retryable', async () => {
    const error = await failure(deliver(gateway, { channel: 'telegram', target: '42' }));
    assert.equal(error.retryable, false);
  });
});

describe('gateway provider, RPC path', () => {
  const TOKEN = 'rescue-token-0123456789';
  let wss: WebSocketServer;
  let url: string;
  const sends: Array<{ params: Record<string, unknown>; scopes: unknown }> = [];
  let sendError: string | undefined;
  before(async () => {
    // The handshake of a real Gateway (challenge, connect, hello-ok), then `send` answered or refused.
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    wss.on('connection', (socket) => {
      let scopes: unknown;
      socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }));
      socket.on('message', (raw) => {
        const frame = JSON.parse(raw.toString()) as { id: string; method: string; params: Record<string, any> };
        if (frame.method === 'connect') {
          scopes = frame.params.scopes;
          return socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { type: 'hello-ok', protocol: 4 } }));
        }
        if (frame.method !== 'send') return;
        sends.push({ params: frame.params, scopes });
        const reply = sendError ? { ok: false, error: { code: 'INVALID_REQUEST', message: sendError } } : { ok: true, payload: { messageId: 'm1' } };
        socket.send(JSON.stringify({ type: 'res', id: frame.id, ...reply }));
      });
    });
  });
  after(() => new Promise<void>((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => resolve());
  }));
  const rescue = (): GatewayAccess => ({ command: ['/nonexistent'], env: {}, url, token: TOKEN, configPath: '/nonexistent/openclaw.json' });

  it('sends WhatsApp through the rescue\'s send RPC with operator.write and the alert\'s idempotency key', async () => {
    sendError = undefined;
    const alert = sampleAlert();
    await deliver(gateway, { channel: 'whatsapp', target: '+15551234567', account: 'default' }, context({ rescueGateway: rescue() }), alert);
    const sent = sends.at(-1)!;
    assert.deepEqual(sent.scopes, ['operator.write']);
    assert.equal(sent.params.to, '+15551234567');
    assert.equal(sent.params.channel, 'whatsapp');
    assert.equal(sent.params.accountId, 'default');
    assert.equal(sent.params.idempotencyKey, alert.idempotencyKey);
  });

  it('a channel the rescue does not have is not retryable', async () => {
    sendError = 'unsupported channel: whatsapp';
    const error = await failure(deliver(gateway, { channel: 'whatsapp', target: '+15551234567' }, context({ rescueGateway: rescue() })));
    assert.equal(error.retryable, false);
    assert.match(error.message, /unsupported channel: whatsapp/);
  });

  it('a rescue Gateway that is down is retryable', async () => {
    const error = await failure(deliver(gateway, { channel: 'whatsapp', target: '+1555' }, context({ rescueGateway: { ...rescue(), url: 'ws://127.0.0.1:1' } })));
    assert.equal(error.retryable, true);
  });
});

describe('apprise provider, CLI path', () => {
  const cli = fakeCli(tempDir('lifeguard-notify-apprise-'));
  const options = { urls: ['tgram://123:abc/42'], command: cli.script };

  it('runs the CLI with title, body and type, and hands it the URLs in APPRISE_URLS', async () => {
    cli.setMode('ok');
    cli.reset();
    await deliver(apprise, options);
    const { argv, env } = cli.record();
    assert.deepEqual(argv.slice(0, 2), ['-t', 'main Gateway down: health RPC unanswered for 6 s']);
    assert.deepEqual(argv.slice(-2), ['-n', 'failure']);
    assert.equal(env.APPRISE_URLS, 'tgram://123:abc/42');
  });

  it('exit 1 (a service failed) is retryable, exit 2 (bad arguments) is not', async () => {
    cli.setMode('fail');
    assert.equal((await failure(deliver(apprise, options))).retryable, true);
    cli.setMode('usage');
    const error = await failure(deliver(apprise, options));
    assert.equal(error.retryable, false);
    assert.match(error.message, /exited with 2: Usage: apprise/);
  });

  it('a missing apprise is not retryable and says it cannot run', async () => {
    const error = await failure(deliver(apprise, { urls: ['tgram://123:abc/42'], command: '/nonexistent/apprise' }));
    assert.equal(error.retryable, false);
    assert.match(error.message, /cannot run \/nonexistent\/apprise \(ENOENT\)/);
  });
});

interface SmtpBehaviour {
  greet: boolean;
  password: string;
  rejectRecipient?: string;
  dataReply: string;
}

/** A minimal SMTP server on 127.0.0.1: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; records the messages it accepts. */
async function startSmtp(behaviour: SmtpBehaviour) {
  const messages: Array<{ from: string; to: string[]; data: string; login?: string }> = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (!behaviour.greet) return;
    const say = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let current: { from: string; to: string[]; data: string; login?: string } = { from: '', to: [], data: '' };
    let login: string | undefined;
    let inData = false;
    say('220 fake ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line !== '.') {
            current.data += `${line}\n`;
            continue;
          }
          inData = false;
          if (behaviour.dataReply.startsWith('250')) messages.push({ ...current, ...(login ? { login } : {}) });
          say(behaviour.dataReply);
          continue;
        }
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') say('250-fake\r\n250-AUTH PLAIN\r\n250 8BITMIME');
        else if (verb === 'AUTH') {
          const [, user, pass] = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString('utf8').split('\0');
          if (pass === behaviour.password) {
            login = user;
            say('235 2.7.0 Authentication successful');
          } else say('535 5.7.8 Authentication credentials invalid');
        } else if (verb === 'MAIL') {
          current = { from: line.slice(10), to: [], data: '' };
          say('250 OK');
        } else if (verb === 'RCPT') {
          const to = line.slice(8);
          if (behaviour.rejectRecipient && to.includes(behaviour.rejectRecipient)) say('550 5.1.1 No such user');
          else {
            current.to.push(to);
            say('250 OK');
          }
        } else if (verb === 'DATA') {
          inData = true;
          say('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          say('221 Bye');
          socket.end();
        } else if (verb === 'RSET' || verb === 'NOOP') say('250 OK');
        else say('502 Command not implemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    messages,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('email provider against a loopback SMTP server', () => {
  const PASSWORD = 'smtp-pass-0123456789';
  const behaviour: SmtpBehaviour = { greet: true, password: PASSWORD, dataReply: '250 OK queued' };
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  before(async () => {
    smtp = await startSmtp(behaviour);
  });
  after(() => smtp.close());
  const options = (overrides: Record<string, unknown> = {}) => ({
    host: '127.0.0.1', port: smtp.port, user: 'lifeguard', password: PASSWORD,
    from: 'lifeguard <lg@example.com>', to: ['me@example.com', 'ops@example.com'], ...overrides,
  });

  it('logs in and delivers subject, body and Message-ID to every recipient', async () => {
    Object.assign(behaviour, { greet: true, rejectRecipient: undefined, dataReply: '250 OK queued' });
    await deliver(email, options());
    const mail = smtp.messages.at(-1)!;
    assert.equal(mail.login, 'lifeguard');
    assert.deepEqual(mail.to, ['<me@example.com>', '<ops@example.com>']);
    const headers = mail.data.slice(0, mail.data.indexOf('\n\n')).replace(/\n[ \t]+/g, ' ');
    assert.match(headers, /^Subject: \[lifeguard\] CRITICAL: main Gateway down: health RPC unanswered for 6 s$/m);
    assert.match(headers, /^Message-ID: <lifeguard\.[0-9a-f]{32}@vps1>$/m);
    assert.match(mail.data, /lifeguard logs main/);
    assert.doesNotMatch(mail.data, new RegExp(PASSWORD));
  });

  it('a refused login is not retryable and never shows the password', async () => {
    Object.assign(behaviour, { greet: true, rejectRecipient: undefined, dataReply: '250 OK' });
    const error = await failure(deliver(email, options({ password: 'wrong-password-0123' })));
    assert.equal(error.retryable, false);
    assert.match(error.message, /login refused/);
    assert.doesNotMatch(error.message, /wrong-password-0123/);
  });

  it('a rejected recipient (550) is not retryable', async () => {
    Object.assign(behaviour, { greet: true, rejectRecipient: 'me@example.com', dataReply: '250 OK' });
    const error = await failure(deliver(email, options({ to: 'me@example.com' })));
    assert.equal(error.retryable, false);
    assert.match(error.message, /550/);
  });

  it('a temporary refusal (451) is retryable', async () => {
    Object.assign(behaviour, { greet: true, rejectRecipient: undefined, dataReply: '451 4.3.0 Try again later' });
    const error = await failure(deliver(email, options()));
    assert.equal(error.retryable, true);
    assert.match(error.message, /451/);
  });

  it('a server that never greets is abandoned when the attempt times out, retryably', async () => {
    Object.assign(behaviour, { greet: false });
    const started = Date.now();
    const error = await failure(deliver(email, options(), context({}, 500)));
    assert.equal(error.retryable, true);
    assert.match(error.message, /timed out/);
    assert.ok(Date.now() - started < 3_000);
  });
});

describe('gateway provider, direct Telegram route', () => {
  const RESCUE_BOT = '7000000001:AAE_rescue_bot_token_0123456789abcdef';
  let api: FakeTelegram;
  const dir = tempDir('lifeguard-notify-direct-');
  const rescueWith = (telegram: Record<string, unknown> | undefined): GatewayAccess => {
    const configPath = join(dir, `rescue-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(configPath, JSON.stringify({ gateway: { mode: 'local' }, ...(telegram ? { channels: { telegram } } : {}) }));
    // A CLI that cannot run and an RPC nobody answers: only the direct route can deliver.
    return { command: ['/nonexistent/openclaw'], env: { RESCUE_BOT_TOKEN: RESCUE_BOT }, url: 'ws://127.0.0.1:1', token: 'gw-token', configPath };
  };
  before(async () => {
    api = await FakeTelegram.start();
    api.addBot('rescue', RESCUE_BOT, 7000000001);
  });
  after(() => api.stop());

  it("sends the alert as the rescue's own bot, to the apiRoot in the rescue config, with no Gateway involved", async () => {
    const rescue = rescueWith({ enabled: true, botToken: '${RESCUE_BOT_TOKEN}', apiRoot: api.apiRoot });
    const since = Date.now();
    await deliver(gateway, { channel: 'telegram', target: '4242' }, context({ rescueGateway: rescue }));
    const [sent] = api.sent('rescue', 4242).filter((m) => m.at >= since);
    assert.ok(sent, 'the owner got it');
    assert.match(sent.text, /^🔴 main Gateway down[\s\S]*\n\nReply with:\n\/lifeguard diagnose/);
    assert.equal(sent.parseMode, undefined, 'plain text: nothing in an alert can be refused as markup');
    assert.equal(await gateway.route!(gateway.options.parse({ channel: 'telegram', target: '4242' }), { rescueGateway: rescue }),
      `Telegram Bot API directly as the rescue's bot (${new URL(api.apiRoot).host}), Gateways up or down`);
  });

  it("takes the provider's apiRoot where the rescue config names none (Clawdbot), and an account's own token", async () => {
    const rescue = rescueWith({ accounts: { rescuebot: { botToken: RESCUE_BOT } } });
    await deliver(gateway, { channel: 'telegram', target: '77', account: 'rescuebot', apiRoot: api.apiRoot }, context({ rescueGateway: rescue }));
    assert.equal(api.sent('rescue', 77).length, 1);
  });

  it('a token the Bot API refuses is not retried, and the token appears nowhere in the error', async () => {
    const wrong = '7000000002:AAE_wrong_bot_token_00000000000000000';
    const error = await failure(deliver(gateway, { channel: 'telegram', target: '1' }, context({ rescueGateway: rescueWith({ botToken: wrong, apiRoot: api.apiRoot }) })));
    assert.equal(error.retryable, false);
    assert.match(error.message, /answered 401/);
    assert.ok(!error.message.includes(wrong) && !error.message.includes('AAE_wrong'), error.message);
  });

  it('without a Telegram bot in the rescue config, auto falls back to the CLI, and bot-api refuses to guess', async () => {
    const rescue = rescueWith(undefined);
    assert.equal(await gateway.route!(gateway.options.parse({ channel: 'telegram', target: '1' }), { rescueGateway: rescue }), 'the rescue Gateway CLI (message send --channel telegram)');
    const cliError = await failure(deliver(gateway, { channel: 'telegram', target: '1' }, context({ rescueGateway: rescue })));
    assert.match(cliError.message, /cannot run \/nonexistent\/openclaw/);
    const direct = await failure(deliver(gateway, { channel: 'telegram', target: '1', via: 'bot-api' }, context({ rescueGateway: rescue })));
    assert.equal(direct.retryable, false);
    assert.match(direct.message, /names no Telegram bot token/);
  });
});

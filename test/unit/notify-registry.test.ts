import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveProviders, wants, type ConfiguredProvider } from '../../src/notify/registry.js';
import type { Alert, AlertEventName, Severity } from '../../src/notify/types.js';
import { sampleAlert } from '../helpers/sample-alert.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const telegramEntry = { type: 'telegram', botToken: BOT_TOKEN, chatId: 42 };
const ntfyEntry = { type: 'ntfy', topic: 'lifeguard-alerts' };

function only(entries: unknown[]): ConfiguredProvider {
  const { providers, problems } = resolveProviders(entries);
  assert.deepEqual(problems, []);
  assert.equal(providers.length, 1);
  return providers[0]!;
}

describe('resolveProviders', () => {
  it('fills in defaults: name = type, minSeverity info, no event filter, no digest, option defaults', () => {
    const provider = only([telegramEntry]);
    assert.equal(provider.name, 'telegram');
    assert.equal(provider.type, 'telegram');
    assert.equal(provider.minSeverity, 'info');
    assert.equal(provider.events, undefined);
    assert.equal(provider.digest, false);
    assert.deepEqual(provider.options, { botToken: BOT_TOKEN, chatId: '42', apiBaseUrl: 'https://api.telegram.org', disableNotification: false });
    assert.deepEqual(provider.secrets, [BOT_TOKEN]);
    assert.equal(provider.definition.type, 'telegram');
  });

  it('keeps the common fields out of the provider options, which refuse unknown keys', () => {
    const provider = only([{ ...ntfyEntry, name: 'phone', minSeverity: 'critical', events: ['down', 'escalated'], digest: true }]);
    assert.equal(provider.name, 'phone');
    assert.equal(provider.minSeverity, 'critical');
    assert.deepEqual(provider.events, ['down', 'escalated']);
    assert.equal(provider.digest, true);
    assert.deepEqual(provider.options, { url: 'https://ntfy.sh', topic: 'lifeguard-alerts' });
  });

  it('names entries uniquely: the type, then type-2, type-3, around names given explicitly', () => {
    const { providers, problems } = resolveProviders([ntfyEntry, { ...ntfyEntry, name: 'ntfy-2' }, ntfyEntry, telegramEntry]);
    assert.deepEqual(problems, []);
    assert.deepEqual(providers.map((p) => p.name), ['ntfy', 'ntfy-2', 'ntfy-3', 'telegram']);
  });

  it('keeps a name when an earlier entry of the same type is broken, so nothing named after it moves', () => {
    const { providers } = resolveProviders([{ type: 'ntfy' }, ntfyEntry]);
    assert.deepEqual(providers.map((p) => p.name), ['ntfy-2']);
  });

  it('reports each broken entry on its own, by index, field and fix, and keeps the good ones', () => {
    const { providers, problems } = resolveProviders([
      telegramEntry,
      { type: 'telegram', chatId: 42 },
      { type: 'telgram', token: 'x' },
      { type: 'ntfy', topic: 'has spaces' },
      'ntfy',
      ntfyEntry,
    ]);
    // The broken ntfy entry still holds the name "ntfy": fixing it later renames nobody.
    assert.deepEqual(providers.map((p) => p.name), ['telegram', 'ntfy-2']);
    assert.deepEqual(problems, [
      'notify[1] (telegram): botToken is required: the bot token from @BotFather, like 123456789:AAH...',
      'notify[2]: type "telgram" is unknown; use one of webhook, slack, discord, telegram, ntfy, email, apprise, gateway',
      'notify[3] (ntfy): topic must be 1 to 64 letters, digits, "-" or "_"',
      'notify[4]: must be an object like { type: "ntfy", topic: "..." }',
    ]);
  });

  it('lists the options a provider takes when one is misspelt', () => {
    const { problems } = resolveProviders([{ ...telegramEntry, name: 'me', chatID: 42 }]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^notify\[0\] "me" \(telegram\): unknown option "chatID"; telegram takes botToken, chatId, apiBaseUrl/);
  });

  it('refuses non-http URLs, bad names, unknown severities and events', () => {
    const { providers, problems } = resolveProviders([
      { type: 'webhook', url: 'file:///etc/passwd' },
      { ...ntfyEntry, name: 'My Phone' },
      { ...ntfyEntry, minSeverity: 'urgent' },
      { ...ntfyEntry, events: ['test'] },
    ]);
    assert.equal(providers.length, 0);
    assert.deepEqual(problems, [
      'notify[0] (webhook): url must be an http:// or https:// URL',
      'notify[1]: name must be 1 to 40 lowercase letters, digits, "-" or "_" (it becomes part of file names)',
      'notify[2]: minSeverity must be one of info, warning, critical',
      'notify[3]: events[0] must be one of down, degraded, config-invalid, recovered, escalated, reminder, resolved (test always goes out, digest by "digest: true")',
    ]);
  });

  it('refuses a name used twice, keeping the first', () => {
    const { providers, problems } = resolveProviders([{ ...ntfyEntry, name: 'phone' }, { ...telegramEntry, name: 'phone' }]);
    assert.deepEqual(providers.map((p) => p.type), ['ntfy']);
    assert.deepEqual(problems, ['notify[1] "phone": name is already used by notify[0]; give each entry its own name']);
  });

  it('refuses an apprise entry with neither urls nor apiUrl, and an email login without its password', () => {
    const { problems } = resolveProviders([
      { type: 'apprise' },
      { type: 'apprise', apiUrl: 'http://127.0.0.1:8000' },
      { type: 'email', host: 'smtp.example.com', from: 'a@example.com', to: 'b@example.com', user: 'me' },
    ]);
    assert.deepEqual(problems, [
      'notify[0] (apprise): needs "urls" (sent with the apprise CLI) or "apiUrl" (an Apprise API server)',
      'notify[1] (apprise): key is needed with "apiUrl" (the key of a configuration stored there), or set "urls" instead',
      'notify[2] (email): password must be set together with user',
    ]);
  });

  it('never repeats a secret value in a problem', () => {
    const secrets = ['not-a-bot-token-SECRET1', 'hunter2-SECRET2', 'https://hooks.slack.com/services/SECRET3', 'Bearer SECRET4\n'];
    const { problems } = resolveProviders([
      { type: 'telegram', botToken: secrets[0], chatId: 'nope' },
      { type: 'email', host: 'h', from: 'a@b', to: 'b@c', password: secrets[1], port: 'x' },
      { type: 'slack', webhookUrl: `ftp${secrets[2]!.slice(5)}` },
      { type: 'webhook', url: 'https://example.com', headers: { Authorization: secrets[3] } },
    ]);
    assert.ok(problems.length >= 4, problems.join('\n'));
    for (const problem of problems) assert.doesNotMatch(problem, /SECRET/, problem);
  });

  it('collects secrets for redaction: webhook URL path and header values, ntfy token, email password, apprise URLs', () => {
    const { providers } = resolveProviders([
      { type: 'webhook', url: 'https://example.com/hooks/abc123def456?key=zzz999', headers: { 'X-Api-Key': 'key-0123456789' } },
      { ...ntfyEntry, token: 'tk_0123456789' },
      { type: 'email', host: 'h', from: 'a@b', to: 'b@c', user: 'u', password: 'pw-0123456789' },
      { type: 'apprise', urls: ['tgram://123:abc/42'] },
    ]);
    const [hook, phone, mail, app] = providers.map((p) => p.secrets);
    assert.ok(hook?.includes('/hooks/abc123def456?key=zzz999') && hook.includes('key-0123456789'), String(hook));
    assert.deepEqual(phone, ['tk_0123456789']);
    assert.deepEqual(mail, ['pw-0123456789']);
    assert.deepEqual(app, ['tgram://123:abc/42']);
  });
});

describe('wants', () => {
  const provider = (fields: Record<string, unknown> = {}) => only([{ ...ntfyEntry, ...fields }]);
  const alert = (event: AlertEventName, severity: Severity): Alert => sampleAlert({ event, severity });

  it('sends alerts at or above minSeverity', () => {
    const critical = provider({ minSeverity: 'critical' });
    assert.equal(wants(critical, alert('down', 'critical')), true);
    assert.equal(wants(critical, alert('degraded', 'warning')), false);
    const warning = provider({ minSeverity: 'warning' });
    assert.equal(wants(warning, alert('degraded', 'warning')), true);
    assert.equal(wants(warning, alert('recovered', 'info')), false);
    assert.equal(wants(provider(), alert('recovered', 'info')), true);
  });

  it('sends only the listed events when there is an event filter', () => {
    const filtered = provider({ events: ['down', 'resolved'] });
    assert.equal(wants(filtered, alert('down', 'critical')), true);
    assert.equal(wants(filtered, alert('resolved', 'info')), true);
    assert.equal(wants(filtered, alert('reminder', 'critical')), false);
  });

  it('always sends a test, whatever the filters', () => {
    assert.equal(wants(provider({ minSeverity: 'critical', events: ['down'] }), alert('test', 'info')), true);
  });

  it('sends the digest only to providers that asked for it', () => {
    assert.equal(wants(provider(), alert('digest', 'info')), false);
    assert.equal(wants(provider({ digest: true, minSeverity: 'critical' }), alert('digest', 'info')), true);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finish } from '../../src/chat/reply.js';
import type { ResolvedInstance } from '../../src/config/instance.js';
import { BRIEF_FILE, BRIEF_JSON_FILE } from '../../src/handoff/brief.js';
import { handOff } from '../../src/handoff/handoff.js';
import { newRecord, withTimeline, type IncidentRecord } from '../../src/incidents/record.js';
import { createIncident, incidentPath, readIncident } from '../../src/incidents/store.js';
import type { IncidentCore } from '../../src/incidents/types.js';
import { renderIncident } from '../../src/surfaces/incident-view.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { statusPath, writeStatus, type DaemonStatus } from '../../src/daemon/status-store.js';
import { sendAlert } from '../../src/notify/dispatcher.js';
import { resolveProviders } from '../../src/notify/registry.js';
import { redactFields, redactStrings, redactText } from '../../src/secrets/redact.js';
import { processSecrets, SecretRegistry } from '../../src/secrets/registry.js';
import { gatewaySecretSource, lifeguardSecretSource } from '../../src/secrets/sources.js';
import { createJournal, journalPath } from '../../src/surfaces/journal.js';
import { sampleAlert } from '../helpers/sample-alert.js';
import { tempDir } from '../helpers/temp-dir.js';

function assertHidden(text: string, secrets: Iterable<string>): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${secret} leaked:\n${text}`);
    assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)), `${secret} leaked JSON-escaped:\n${text}`);
  }
}

describe('the redactor on what the hostile review found', () => {
  const telegram = '123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0';
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lciJ9.c2lnbmF0dXJlLXBhcnQ';

  it('masks a bot token in a Telegram API URL, with or without the full token shape', () => {
    const line = `FetchError: request to https://api.telegram.org/bot${telegram}/getUpdates failed`;
    assert.equal(redactText(line, [], new SecretRegistry()), 'FetchError: request to https://api.telegram.org/bot[redacted]/getUpdates failed');
    assert.equal(redactText('GET /bot42:short-token/sendMessage', [], new SecretRegistry()), 'GET /bot[redacted]/sendMessage');
  });

  it('masks Slack, Anthropic, OpenAI, GitHub and AWS keys, Slack webhook URLs and JWTs by their shape', () => {
    const secrets = ['xoxb-1234-5678-abcdefghij', 'sk-ant-api03-abcdefghijklmnop', 'sk-proj-abcdefghijklmnopqrst', 'ghp_abcdefghijklmnopqrstuvwx',
      'github_pat_11ABCDEFG0123456789_abc', 'AKIAIOSFODNN7EXAMPLE', 'T000/B000/XXXXXXXXXXXXXXXX', jwt];
    const text = `slack ${secrets[0]} anthropic ${secrets[1]} (openai ${secrets[2]}) gh=${secrets[3]} pat ${secrets[4]} aws ${secrets[5]}
posting to https://hooks.slack.com/services/${secrets[6]} with ${secrets[7]}`;
    const redacted = redactText(text, [], new SecretRegistry());
    assertHidden(redacted, secrets);
    assert.match(redacted, /https:\/\/hooks\.slack\.com\/services\/\[redacted\]/);
  });

  it('hides the whole credential after Bearer, and a custom auth header to the end of its line', () => {
    const redacted = redactText(`Authorization: Bearer ${jwt}\nX-Custom-Auth: hdr value 42\nuser-agent: curl`, [], new SecretRegistry());
    assert.equal(redacted, 'Authorization: [redacted]\nX-Custom-Auth: [redacted]\nuser-agent: curl');
    assert.equal(redactText('sent "Bearer abcdefgh12345678" to the API', [], new SecretRegistry()), 'sent "Bearer [redacted]" to the API');
  });

  it('keeps what is no secret readable', () => {
    const plain = 'gateway: Unrecognized key: "nope"; maxTokens: 4096; keyboard: dvorak; idempotencyKey: inc-1:down:1; token: set';
    assert.equal(redactText(plain, [], new SecretRegistry()), plain);
  });

  it('hides a secret-named field in logged objects, a botToken included, and whatever the message repeats', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ channels: { telegram: { botToken: 'tg-short-1' } }, headers: { 'X-Custom-Auth': 'hdr-secret-2', 'content-type': 'application/json' } }, `calling with Authorization: Bearer ${jwt}`);
    log.error({ err: new Error(`request to https://api.telegram.org/bot${telegram}/getMe failed`) }, 'send failed');
    const text = lines.join('');
    assertHidden(text, ['tg-short-1', 'hdr-secret-2', jwt, telegram]);
    assert.ok(text.includes('application/json'), 'a plain header stays visible');
    for (const line of lines) JSON.parse(line);
  });
});

describe('the secret registry', () => {
  it('knows every secret of a Gateway config, its ${VAR}s and .env, and sees a change', async () => {
    const dir = tempDir('lg-secrets-');
    {
      const configPath = join(dir, 'openclaw.json');
      await writeFile(join(dir, '.env'), 'ANTHROPIC_API_KEY=anthropic-from-dotenv-1\nNODE_ENV=production\nHOOK_SECRET=hook-secret-from-env\n');
      await writeFile(configPath, `{
        gateway: { mode: "local", auth: { mode: "token", token: "gw-token-abcdef" } },
        channels: { telegram: { botToken: "tg-bot-token-1", webhookSecret: "\${HOOK_SECRET}" } },
        models: { providers: { custom: { baseUrl: "https://llm.example", headers: { "X-Custom-Auth": "custom-header-secret", Accept: "application/json" } } } },
      }`);
      let now = 0;
      const registry = new SecretRegistry({ now: () => now });
      registry.track(gatewaySecretSource({ name: 'main', configPath, stateDir: dir, env: { EXTRA_TOKEN: 'extra-token-from-lifeguard' } }));
      const known = registry.values();
      for (const secret of ['gw-token-abcdef', 'tg-bot-token-1', 'hook-secret-from-env', 'custom-header-secret', 'anthropic-from-dotenv-1', 'extra-token-from-lifeguard']) {
        assert.ok(known.includes(secret), `${secret} unknown: ${known.join(', ')}`);
      }
      assert.ok(!known.includes('production') && !known.includes('application/json'), 'ordinary values are not secrets');

      await writeFile(configPath, '{ gateway: { mode: "local", auth: { token: "rotated-token-123456" } } }');
      assert.ok(!registry.values().includes('rotated-token-123456'), 'not looked at again within a second');
      now += 1_000;
      assert.ok(registry.values().includes('rotated-token-123456'), 'the new token is known once the config changed');
      assert.ok(registry.values().includes('gw-token-abcdef'), 'the old one stays masked too');
    }
  });

  it("knows lifeguard's own secrets: webhook URLs, bot tokens, SMTP passwords, ntfy tokens, Apprise and heartbeat URLs", async () => {
    const dir = tempDir('lg-secrets-');
    {
      const notify = [
        { type: 'slack', name: 'slack', webhookUrl: 'https://hooks.slack.com/services/T1/B1/slackpathsecret' },
        { type: 'telegram', name: 'tg', botToken: '987654321:lifeguard-bot-token-value', chatId: '42' },
        { type: 'email', name: 'mail', host: 'smtp.example', from: 'a@example.com', to: ['b@example.com'], username: 'a', password: 'smtp-password-1' },
        { type: 'ntfy', name: 'ntfy', url: 'https://ntfy.sh/topic', token: 'tk_ntfy_token_value' },
        { type: 'apprise', name: 'apprise', urls: ['pover://user@apprise-token-value'] },
      ];
      const source = join(dir, 'lifeguard.json5');
      await writeFile(source, JSON.stringify({ notify, heartbeat: { url: 'https://hc-ping.com/5b0f0d6e-uuid-heartbeat' } }));
      const config = parseConfig(JSON.parse(await readFile(source, 'utf8')), { source, home: dir, userHome: dir, env: {} });
      const registry = new SecretRegistry();
      registry.track(lifeguardSecretSource(config));
      const text = redactText(notify.map((entry) => JSON.stringify(entry)).join('\n') + '\nping https://hc-ping.com/5b0f0d6e-uuid-heartbeat', [], registry);
      assertHidden(text, ['slackpathsecret', 'lifeguard-bot-token-value', 'smtp-password-1', 'tk_ntfy_token_value', 'apprise-token-value', '5b0f0d6e-uuid-heartbeat']);
    }
  });
});

/** A small seeded generator, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('property: a random secret in a random place and form never leaves', () => {
  it('through the redactor, the logger, JSON output, records, status, alerts and chat replies', async () => {
    const home = tempDir('lg-secrets-');
    {
      const random = rng(20261202);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
      const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
      /** [what leaks if shown, how it is written where it appears, whether only the registry can know it]. */
      const kinds: Array<() => { secret: string; written: string; known: boolean }> = [
        () => { const s = `${chars('123456789', 9)}:${chars(`${alnum}_-`, 35)}`; return { secret: s, written: s, known: false }; },
        () => { const s = `${chars('123456789', 8)}:${chars(alnum, 10)}`; return { secret: s, written: `https://api.telegram.org/bot${s}/getUpdates`, known: false }; },
        () => { const s = `xox${pick([...'abposr'])}-${chars(`${alnum}-`, 24)}`; return { secret: s, written: s, known: false }; },
        () => { const s = `${pick(['sk-', 'sk-ant-api03-', 'sk-proj-'])}${chars(`${alnum}_`, 32)}`; return { secret: s, written: s, known: false }; },
        () => { const s = `${pick(['ghp_', 'github_pat_'])}${chars(alnum, 30)}`; return { secret: s, written: s, known: false }; },
        () => { const s = `AKIA${chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`; return { secret: s, written: s, known: false }; },
        () => { const s = `eyJ${chars(alnum, 20)}.${chars(alnum, 30)}.${chars(`${alnum}_-`, 30)}`; return { secret: s, written: s, known: false }; },
        () => { const s = chars(`${alnum}._~+/=-`, 24); return { secret: s, written: `Bearer ${s}`, known: false }; },
        () => { const s = chars(alnum, 14); return { secret: s, written: `https://user:${s}@api.example.com/v1`, known: false }; },
        () => { const s = `T${chars(alnum, 8)}/B${chars(alnum, 8)}/${chars(alnum, 24)}`; return { secret: s, written: `https://hooks.slack.com/services/${s}`, known: false }; },
        // Values only the registry knows (from a config), with characters that change when JSON-escaped or URL-encoded.
        () => { const s = chars(`${alnum}"\\/+= `, 20); return { secret: s, written: s, known: true }; },
        () => { const s = chars(`${alnum}/+=@:`, 18); return { secret: s, written: encodeURIComponent(s), known: true }; },
      ];
      const places = [
        (w: string) => w,
        (w: string) => `error: ${w} failed`,
        (w: string) => `${'line of noise\n'.repeat(3)}prefix(${w}), suffix`,
        (w: string) => `Authorization: ${w.startsWith('Bearer') ? w : `Bearer ${w}`}`,
        (w: string) => `{"apiKey": ${JSON.stringify(w)}}`,
        (w: string) => `url=https://example.com/cb?token=${encodeURIComponent(w)}&x=1`,
        (w: string) => `'${w}'`,
      ];
      const registered: string[] = [];
      processSecrets.track({ id: 'property-test', files: [], collect: () => registered });
      const lines: string[] = [];
      const log = createLogger({ level: 'info', destination: new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } }) });
      const captured: unknown[] = [];
      const { providers } = resolveProviders([{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/hook' }]);
      const provider = { ...providers[0]!, definition: { ...providers[0]!.definition, send: async (message: unknown) => { captured.push(message); } } };
      const journal = createJournal(home);
      const workspace = tempDir('lg-secrets-ws-');
      const gateway = (name: 'main' | 'rescue'): ResolvedInstance => ({
        name, appName: `gateway-${name}`, flavour: 'openclaw', profile: name, port: 21000, configPath: `/cfg/${name}.json`, stateDir: `/state/${name}`,
        workspace, logFile: `/logs/${name}.log`, token: undefined, gatewayConfigExists: true, bonjour: false, extraEnv: {}, pinnedEndpoints: [],
      });

      for (let round = 0; round < 200; round += 1) {
        const { secret, written, known } = pick(kinds)();
        if (known) registered.push(secret);
        processSecrets.track({ id: 'property-test', files: [], collect: () => registered });
        const text = pick(places)(written);
        lines.length = 0;
        captured.length = 0;
        log.info({ detail: text, nested: [{ tail: text }] }, text);
        log.warn({ err: new Error(text) }, 'failed');
        await sendAlert(provider, sampleAlert({ summary: text, details: { evidence: text } }), { timeoutMs: 1_000, env: {}, rescueGateway: undefined });
        await journal.append({ at: new Date(0).toISOString(), instance: 'main', kind: 'note', detail: text } as never);
        await writeStatus(home, { pid: 1, startedAt: 0, updatedAt: 0, instances: [{ name: 'main', reason: text }] } as unknown as DaemonStatus);
        const record = incident(`main-20261125-${String(round).padStart(6, '0')}Z`, text);
        await createIncident(home, record);
        const stored = (await readIncident(home, record.id))!;
        await handOff({
          record, main: gateway('main'), rescue: gateway('rescue'), cli: 'lifeguard', config: { valid: false, detail: text }, diff: { summary: text, patch: `+ ${text}` },
          ensureRescue: async () => ({ ok: true, detail: 'up' }), wakeAgent: false, timeoutMs: 1_000,
        });
        const outputs = {
          record: await readFile(incidentPath(home, record.id), 'utf8'),
          incidentShow: redactText(renderIncident(stored, 0)),
          brief: await readFile(join(workspace, BRIEF_FILE), 'utf8'),
          briefJson: await readFile(join(workspace, BRIEF_JSON_FILE), 'utf8'),
          text: redactText(text),
          json: JSON.stringify(redactStrings({ a: [{ b: text }], c: text })),
          fields: JSON.stringify(redactFields({ env: { X: text }, detail: text })),
          log: lines.join(''),
          alert: JSON.stringify(captured),
          journal: await readFile(journalPath(home), 'utf8'),
          status: await readFile(statusPath(home), 'utf8'),
          chat: finish(text, []),
        };
        assert.equal(redactText(outputs.text), outputs.text, `round ${round}: masking twice changes nothing`);
        for (const [where, output] of Object.entries(outputs)) {
          const forms = [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
          assert.ok(forms.every((form) => !output.includes(form)), `round ${round}: ${JSON.stringify(secret)} leaked in ${where} from ${JSON.stringify(text)}:\n${output}`);
        }
      }
    }
  });
});

function incident(id: string, text: string): IncidentRecord {
  const core: IncidentCore = {
    id, instance: 'main', status: 'open', openedAt: 0, problem: 'down', classification: 'crash-looping', severity: 'critical', summary: text,
    rung: 'R3', rungSince: 0, attempts: { R0: 0, R1: 0, R2: 0, R3: 1, R4: 0 }, frozen: false, ack: undefined, recoveredAt: undefined,
    resolvedAt: undefined, lastAlertAt: 0, alertCounts: {}, lease: undefined,
  };
  const record = { ...newRecord(core, '/cfg/main.json'), errorOutput: [text] };
  return withTimeline(record, [{ at: 0, kind: 'note', text }]);
}


/**
 * End-to-end: secrets never leave. The real OpenClaw main Gateway gets a Telegram bot token, a model API
 * key with a custom auth header and a webhook secret in its config (keys its own `config validate`
 * accepts), and prints them at every start (a NODE_OPTIONS preload: fault injection through PM2's env).
 * It crashes on a broken config with restoring switched off, is diagnosed, handed to the rescue bot and talked
 * about over chat; then every alert received, every file lifeguard wrote, the brief, lifeguard's own logs
 * and the output of every command are searched for the secrets, in every form they could take.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { describeResult, pollUntil, type CommandResult, type LifeguardRun } from '../helpers/harness.js';

const SECRETS = {
  telegramBotToken: '123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0',
  telegramWebhookSecret: 'tg-webhook-secret-e2e-4711',
  modelApiKey: 'acme-api-key-e2e-0815-zz',
  customHeader: 'custom-header-secret-e2e-99',
  hooksToken: 'hooks-webhook-secret-e2e-1234',
};

/** Every form a secret takes in text: as is, JSON-escaped, URL-encoded. */
function leaksIn(text: string): string[] {
  return Object.entries(SECRETS).filter(([, secret]) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)].some((form) => text.includes(form))).map(([name]) => name);
}

/**
 * Prints the secrets as a misbehaving Gateway or library would: in a URL, a header, a config dump, an
 * error. Only in the Gateway's own process: its workers and child processes (which answer it in JSON on
 * stdout) inherit NODE_OPTIONS and the marker, and stay quiet.
 */
const PRELOAD = `
import { isMainThread } from 'node:worker_threads';
const s = ${JSON.stringify(SECRETS)};
const first = isMainThread && !process.env.LG_E2E_SECRETS_PRINTED;
process.env.LG_E2E_SECRETS_PRINTED = '1';
if (first) {
console.log('[preload] telegram: FetchError: request to https://api.telegram.org/bot' + s.telegramBotToken + '/getUpdates failed');
console.error('[preload] model call: POST http://127.0.0.1:9/v1/chat with Authorization: Bearer ' + s.modelApiKey + ' and X-Custom-Auth: ' + s.customHeader);
console.error('[preload] hooks config ' + JSON.stringify({ hooks: { token: s.hooksToken }, webhookSecret: s.telegramWebhookSecret }));
console.error('[preload] rejected key ' + s.modelApiKey + ' for webhook ' + s.hooksToken + ' (bot ' + s.telegramBotToken + ')');
}
`;

describe('secrets never leave (OpenClaw)', { timeout: 15 * 60_000 }, () => {
  const preloadDir = mkdtempSync('/tmp/lgs-');
  const preload = join(preloadDir, 'print-secrets.mjs');
  writeFileSync(preload, PRELOAD);
  let lg: AlertedRun;
  let run: LifeguardRun;
  let rescueWorkspace = '';
  let incidentId = '';
  const outputs: CommandResult[] = [];
  const mainConfig = () => join(run.home, '.openclaw', 'openclaw.json');
  const cli = async (args: string[], timeoutMs = 120_000) => {
    const result = await run.cli(args, timeoutMs);
    outputs.push(result);
    return result;
  };

  before(async () => {
    lg = await startAlertedRun({
      flavour: 'openclaw',
      mainEnv: { NODE_OPTIONS: `--import ${preload}` },
      config: [
        // No restore (a snapshot of the first start exists): R2 steps aside, so the crash goes on to the rescue.
        '  escalation: { restoreAttempts: 0 },',
        '  handoff: { leaseMs: 600000, ackDeadlineMs: 300000 },',
      ],
      eventPollMs: 200,
    });
    ({ run } = lg);
  });

  after(async () => {
    await lg?.teardown();
    rmSync(preloadDir, { recursive: true, force: true });
  });

  it('plants the secrets in the main config, which its Gateway accepts, and in its output', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(180_000);
    const layout = JSON.parse((await cli(['check', '--json'])).stdout) as { instances: Array<{ name: string; workspace: string }> };
    rescueWorkspace = layout.instances.find((i) => i.name === 'rescue')!.workspace;
    const config = JSON.parse(readFileSync(mainConfig(), 'utf8')) as Record<string, unknown>;
    writeFileSync(mainConfig(), `${JSON.stringify({
      ...config,
      channels: { telegram: { enabled: false, botToken: SECRETS.telegramBotToken, webhookSecret: SECRETS.telegramWebhookSecret } },
      models: { providers: { acme: { baseUrl: 'http://127.0.0.1:9/v1', api: 'openai-completions', apiKey: SECRETS.modelApiKey, headers: { 'X-Custom-Auth': SECRETS.customHeader }, models: [] } } },
      hooks: { enabled: true, token: SECRETS.hooksToken },
    }, null, 2)}\n`);
    const validated = await cli(['config', 'validate', 'main', '--json']);
    assert.equal((JSON.parse(validated.stdout) as { valid: unknown }).valid, true, describeResult(validated));
    const gatewayLog = join(run.lifeguardHome, 'logs', 'gateway-main.err.log');
    await pollUntil('the preload in the Gateway output', () => existsSync(gatewayLog) && readFileSync(gatewayLog, 'utf8').includes(SECRETS.customHeader), { timeoutMs: 30_000 });
  });

  it('crashes on a broken config and is handed to the rescue', { timeout: 5 * 60_000 }, async () => {
    assert.ok(rescueWorkspace, 'came up');
    const good = readFileSync(mainConfig(), 'utf8');
    writeFileSync(join(run.dir, 'good.json'), good);
    writeFileSync(mainConfig(), `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
    await lg.waitForEvent('config-invalid', (e) => e.event === 'config-invalid', 60_000);
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { instances: Array<{ instance: string; pid?: number }> };
    const pid = status.instances.find((i) => i.instance === 'main')?.pid;
    // A main that is already down (its config just broke under it) needs no crash.
    if (pid) process.kill(pid, 'SIGKILL');
    const escalated = await lg.waitForEvent('the handoff', (e) => e.event === 'escalated', 180_000);
    incidentId = escalated.incidentId!;
    await pollUntil('the brief', () => existsSync(join(rescueWorkspace, 'LIFEGUARD_INCIDENT.json')), { timeoutMs: 60_000 });
  });

  it('is diagnosed, shown and talked about over chat without a secret in any output', { timeout: 4 * 60_000 }, async () => {
    assert.ok(incidentId, 'handed over');
    const logs = await cli(['logs', 'main', '--lines', '200']);
    assert.match(logs.stdout, /\[preload\]/, 'the Gateway output that held the secrets is shown');
    assert.match(logs.stdout, /api\.telegram\.org\/bot\[redacted\]\/getUpdates/);
    await cli(['logs', 'main', '--lines', '200', '--json']);
    await cli(['diagnose', 'main']);
    await cli(['diagnose', 'main', '--json']);
    await cli(['status']);
    await cli(['incidents']);
    await cli(['incident', 'show', incidentId]);
    await cli(['incident', 'show', incidentId, '--json']);
    await cli(['config', 'validate', 'main']);
    const owner = ['chat', '--sender', 'owner-1', '--channel', 'webchat', '--owner', '--authorized'];
    for (const words of [['status'], ['diagnose'], ['incidents'], ['incident', incidentId], ['help']]) {
      const reply = await cli([...owner, ...words]);
      assert.equal(reply.code, 0, describeResult(reply));
    }
    const leaks = outputs.flatMap((o) => leaksIn(`${o.stdout}\n${o.stderr}`).map((secret) => `${secret} in \`${o.command}\``));
    assert.deepEqual(leaks, [], outputs.map((o) => describeResult(o, 2_000)).join('\n\n'));
  });

  it('leaves no secret in an alert, a record, the brief or a log of lifeguard', () => {
    assert.ok(incidentId, 'handed over');
    const found: string[] = [];
    for (const request of lg.receiver.requests) {
      for (const secret of leaksIn(`${request.path}\n${JSON.stringify(request.headers)}\n${request.body}`)) found.push(`${secret} in the alert ${request.body.slice(0, 120)}`);
    }
    // Not lifeguard's words but the Gateway's own: the snapshots of its config (kept to restore it) and
    // the log files PM2 writes its output to. Both hold secrets by nature and are the owner's alone (0600).
    const gatewayOwn = /^(snapshots\/|logs\/gateway-)/;
    const scan = (dir: string, label: string, skip?: RegExp) => {
      for (const file of filesUnder(dir)) {
        const name = relative(dir, file);
        if (skip?.test(name)) continue;
        for (const secret of leaksIn(readFileSync(file, 'latin1'))) found.push(`${secret} in ${label}/${name}`);
      }
    };
    scan(run.lifeguardHome, 'LIFEGUARD_HOME', gatewayOwn);
    const brief = ['LIFEGUARD_INCIDENT.md', 'LIFEGUARD_INCIDENT.json'].map((file) => join(rescueWorkspace, file));
    assert.ok(brief.every((file) => existsSync(file)), 'the brief is there');
    for (const file of brief) for (const secret of leaksIn(readFileSync(file, 'utf8'))) found.push(`${secret} in the brief ${file}`);
    const logs = join(run.lifeguardHome, 'logs');
    const ownLogs = readdirSync(logs).filter((file) => file.startsWith('lifeguard'));
    assert.ok(ownLogs.some((file) => readFileSync(join(logs, file), 'utf8').includes('"name":"lifeguard"')), `lifeguard logged: ${ownLogs.join(', ')}`);
    scan(run.pm2Home, 'PM2_HOME');
    assert.ok(lg.receiver.requests.length >= 2, 'alerts were sent');
    assert.deepEqual(found, []);
    // What makes the test mean something: the secrets were in the Gateway's own output all along.
    assert.ok(leaksIn(readFileSync(join(logs, 'gateway-main.err.log'), 'utf8')).length >= 4);
  });
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats) return [];
    if (stats.isDirectory()) return filesUnder(path);
    return stats.isFile() ? [path] : [];
  });
}

/**
 * End-to-end failover against the real OpenClaw Gateway under a real PM2, with alerts going to a real
 * HTTP receiver on 127.0.0.1: one incident per outage with `down` then `resolved`; a config broken while
 * the Gateway runs is reported at once and never restarted into; a crash on that broken config is
 * repaired from the last-known-good snapshot (R1 then R2), keeping the rejected file.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { LifeguardRun, instanceOf, pollUntil, type StatusView } from '../helpers/harness.js';
import type { Receiver } from '../helpers/receiver.js';

const UP_DEADLINE_MS = 180_000;
const RECOVERY_DEADLINE_MS = 150_000;

describe('failover on OpenClaw: alerts, config guard, last-known-good restore', { timeout: 20 * 60_000 }, () => {
  let lg: AlertedRun;
  let run: LifeguardRun;
  let receiver: Receiver;
  let ready = false;
  const requireReady = () => assert.ok(ready, 'lifeguard did not come up (see the first failure)');

  const status = () => run.status();
  const main = async () => instanceOf(await status(), 'main');
  const incident = (id: string) => lg.incident(id);
  const eventsOf = (id: string) => receiver.events().filter((e) => e.incidentId === id).map((e) => e.event);
  const waitForEvent: AlertedRun['waitForEvent'] = (...args) => lg.waitForEvent(...args);

  let httpPort = 0;
  before(async () => {
    httpPort = await freePort();
    lg = await startAlertedRun({
      flavour: 'openclaw',
      config: ['  snapshots: { healthyForMs: 3000 },', '  guard: { intervalMs: 5000 },', `  http: { port: ${httpPort} },`],
    });
    ({ run, receiver } = lg);
  });

  after(() => lg?.teardown());

  it('comes up healthy and snapshots the main config once it has been healthy on it', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);
    const snapshots = await lg.waitForSnapshots();
    assert.equal(snapshots[0]!.matchesCurrent, true);
    assert.equal((await main()).config?.valid, true);
    ready = true;
  });

  it('serves /healthz, /status and /metrics on loopback for tools', async () => {
    requireReady();
    const base = `http://127.0.0.1:${httpPort}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const status = (await (await fetch(`${base}/status`)).json()) as StatusView;
    assert.equal(instanceOf(status, 'main').state, 'healthy');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /lifeguard_gateway_state\{gateway="main",state="healthy"\} 1/);
    assert.match(metrics, /lifeguard_probe_latency_seconds_count\{gateway="main",ok="true"\} [1-9]/);
    assert.equal((await fetch(`${base}/status`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  });

  it('a crash is one incident: `down`, then `resolved` once it has stayed healthy', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    const before = await main();
    process.kill(before.pid!, 'SIGKILL');
    const down = await waitForEvent('a down alert', (e) => e.event === 'down', 30_000);
    const id = down.incidentId!;
    assert.match(id, /^main-\d{8}-\d{6}Z$/);
    assert.equal(down.body.severity, 'critical');
    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === id, RECOVERY_DEADLINE_MS);
    assert.deepEqual(eventsOf(id), ['down', 'resolved']);
    const record = await pollUntil('both deliveries recorded', async () => {
      const r = await incident(id);
      return r.deliveries.filter((d) => d.status === 'delivered').length === 2 ? r : undefined;
    }, { timeoutMs: 20_000 });
    assert.equal(record.status, 'resolved');
    assert.ok(record.timeToRecoverMs !== undefined && record.timeToRecoverMs > 0);
    assert.ok(record.timeline.some((e) => e.kind === 'pm2' && /signal SIGKILL/.test(e.text)), JSON.stringify(record.timeline, null, 1));
    // Everything the receiver got is secret-free: the Gateway token never leaves the machine in an alert.
    const token = (JSON.parse(readFileSync(mainConfigPath(run), 'utf8')) as { gateway: { auth: { token: string } } }).gateway.auth.token;
    assert.ok(!receiver.requests.some((r) => r.body.includes(token)));
  });

  it('a hang is an incident too: killed by lifeguard, alerted as hung, resolved once back', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    const seen = receiver.events().length;
    process.kill((await main()).pid!, 'SIGSTOP');
    const down = await waitForEvent('a down alert for the hang', (e, index) => e.event === 'down' && index >= seen, 60_000);
    assert.equal((down.body.details as Record<string, string>).classification, 'hung');
    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === down.incidentId, RECOVERY_DEADLINE_MS);
    const record = await incident(down.incidentId!);
    assert.ok(record.timeline.some((e) => e.kind === 'state' && /→ down/.test(e.text)), 'the timeline has the state changes');
  });

  let configIncident = '';
  it('an invalid config written while the main runs is alerted within seconds, and the main is left running', { timeout: 3 * 60_000 }, async () => {
    requireReady();
    const before = await main();
    const path = mainConfigPath(run);
    const good = readFileSync(path, 'utf8');
    const written = Date.now();
    writeFileSync(path, `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
    const alert = await waitForEvent('a config-invalid alert', (e) => e.event === 'config-invalid', 30_000);
    const seconds = (alert.body.at ? Date.parse(String(alert.body.at)) : Date.now()) - written;
    assert.ok(seconds < 10_000, `config-invalid alert after ${seconds} ms`);
    configIncident = alert.incidentId!;
    await sleep(8_000);
    const now = await main();
    assert.equal(now.pid, before.pid, 'lifeguard must not restart the main into an invalid config');
    assert.equal(now.state, 'healthy');
    assert.equal(now.config?.valid, false);
    assert.match(now.automationHeld ?? '', /config is invalid/);
  });

  it('a crash on that invalid config restores the last-known-good one (R1 then R2) and keeps the rejected file', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    assert.ok(configIncident, 'needs the config-invalid incident of the previous test');
    const path = mainConfigPath(run);
    const broken = readFileSync(path, 'utf8');
    process.kill((await main()).pid!, 'SIGKILL');
    await waitForEvent('the escalation to the restore', (e) => e.event === 'escalated' && e.incidentId === configIncident, 60_000);
    await run.waitForStatus('the main healthy again', (s: StatusView) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'main').config?.valid === true, RECOVERY_DEADLINE_MS)
      .catch(async (error: unknown) => { throw new Error(`${String(error)}\n${JSON.stringify(await incident(configIncident), null, 1)}`); });
    const rejected = readdirSync(dirname(path)).filter((n) => n.startsWith(`${basename(path)}.lifeguard-rejected-`));
    assert.equal(rejected.length, 1, `kept files: ${rejected.join(', ')}`);
    assert.equal(readFileSync(join(dirname(path), rejected[0]!), 'utf8'), broken);
    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === configIncident, 60_000);
    const record = await incident(configIncident);
    const notes = record.timeline.map((e) => e.text);
    const r1 = notes.findIndex((t) => t.startsWith('R0 → R1'));
    const r2 = notes.findIndex((t) => t.startsWith('R1 → R2'));
    assert.ok(r1 >= 0 && r2 > r1, `timeline:\n${notes.join('\n')}`);
    assert.equal(record.actions.at(-1)?.action, 'restore');
    assert.equal(record.actions.at(-1)?.status, 'succeeded');
    assert.deepEqual(eventsOf(configIncident), ['config-invalid', 'down', 'escalated', 'resolved']);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function mainConfigPath(run: LifeguardRun): string {
  return join(run.home, '.openclaw', 'openclaw.json');
}

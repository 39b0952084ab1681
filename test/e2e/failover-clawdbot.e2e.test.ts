/**
 * The config guard and the last-known-good restore on Clawdbot 2026.1.24-3, the legacy flavour, under a
 * real PM2 with alerts going to a real HTTP receiver on 127.0.0.1: a config that parses but breaks the
 * Gateway's schema (an unknown top-level key) is reported within seconds and the running main is left
 * alone; a crash on it (Clawdbot then exits 1 with "Config invalid") is repaired from the snapshot,
 * R0 → R1 → R2, keeping the rejected file beside the config.
 */
import { ownerCommand } from '../../src/core/command-line.js';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { LifeguardRun, instanceOf, type StatusView } from '../helpers/harness.js';
import type { Receiver } from '../helpers/receiver.js';

const UP_DEADLINE_MS = 240_000;
const RECOVERY_DEADLINE_MS = 180_000;
const UNKNOWN_KEY = 'lifeguardE2eNoSuchSetting';

describe('failover on Clawdbot: schema-invalid config guarded, last-known-good restore', { timeout: 15 * 60_000 }, () => {
  let lg: AlertedRun;
  let run: LifeguardRun;
  let receiver: Receiver;
  let ready = false;
  let goodConfig = '';
  let snapshotContent = '';
  const requireReady = () => assert.ok(ready, 'lifeguard did not come up (see the first failure)');

  const main = async () => instanceOf(await run.status(), 'main');
  const incident = (id: string) => lg.incident(id);
  const eventsOf = (id: string) => receiver.events().filter((e) => e.incidentId === id).map((e) => e.event);
  const waitForEvent: AlertedRun['waitForEvent'] = (...args) => lg.waitForEvent(...args);

  before(async () => {
    lg = await startAlertedRun({ flavour: 'clawdbot', config: ['  snapshots: { healthyForMs: 3000 },', '  guard: { intervalMs: 5000 },'] });
    ({ run, receiver } = lg);
  });

  after(() => lg?.teardown());

  it('comes up healthy on Clawdbot and snapshots the main config', { timeout: 7 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);
    const snapshots = await lg.waitForSnapshots();
    assert.equal(snapshots[0]!.matchesCurrent, true);
    assert.equal((await main()).config?.valid, true);
    goodConfig = readFileSync(mainConfigPath(run), 'utf8');
    snapshotContent = readFileSync(join(run.lifeguardHome, 'snapshots', 'main', `${snapshots[0]!.id}.json5`), 'utf8');
    assert.equal(snapshotContent, goodConfig, 'the snapshot is the config verbatim');
    ready = true;
  });

  let configIncident = '';
  it('an unknown top-level key (a schema error) written while the main runs is alerted within 10 s; the main is left running', { timeout: 3 * 60_000 }, async (t) => {
    requireReady();
    const before = await main();
    assert.equal(before.state, 'healthy');
    const path = mainConfigPath(run);
    const config = JSON.parse(goodConfig) as Record<string, unknown>;
    const written = Date.now();
    // Valid JSON, so only the Gateway's own schema can tell it is wrong.
    writeFileSync(path, `${JSON.stringify({ ...config, [UNKNOWN_KEY]: true }, null, 2)}\n`);
    const alert = await waitForEvent('a config-invalid alert', (e) => e.event === 'config-invalid', 30_000);
    const received = receiver.requests.find((r) => r.json === alert.body)!.at;
    const raisedMs = Date.parse(String(alert.body.at)) - written;
    const receivedMs = received - written;
    t.diagnostic(`config-invalid alert raised ${raisedMs} ms and received ${receivedMs} ms after the write`);
    assert.ok(receivedMs < 10_000, `config-invalid alert received after ${receivedMs} ms`);
    assert.equal(alert.body.instance, 'main');
    assert.ok(String(alert.body.summary).includes(UNKNOWN_KEY), `the alert must name what is wrong: ${String(alert.body.summary)}`);
    assert.ok((alert.body.commands as string[]).includes(ownerCommand('config diff main')), JSON.stringify(alert.body.commands));
    configIncident = alert.incidentId!;

    const left = written + 10_000 - Date.now();
    if (left > 0) await sleep(left);
    const now = await main();
    assert.equal(now.pid, before.pid, 'lifeguard must not restart the main into an invalid config');
    assert.equal(now.state, 'healthy');
    assert.equal(now.config?.valid, false);
    assert.match(now.automationHeld ?? '', /config is invalid/);
    assert.equal(readFileSync(path, 'utf8').includes(UNKNOWN_KEY), true, 'the guard reports; it does not touch the file of a running Gateway');
  });

  it('a crash on that config restores the last-known-good one (R0 → R1 → R2), keeping the rejected file', { timeout: 6 * 60_000 }, async (t) => {
    requireReady();
    assert.ok(configIncident, 'needs the config-invalid incident of the previous test');
    const path = mainConfigPath(run);
    const broken = readFileSync(path, 'utf8');
    const oldPid = (await main()).pid!;
    const killed = Date.now();
    process.kill(oldPid, 'SIGKILL');
    await waitForEvent('the escalation to the restore', (e) => e.event === 'escalated' && e.incidentId === configIncident, 90_000);
    await run.waitForStatus('the main healthy again on the restored config', (s: StatusView) => {
      const m = instanceOf(s, 'main');
      return m.state === 'healthy' && m.config?.valid === true && m.pid !== oldPid;
    }, RECOVERY_DEADLINE_MS).catch(async (error: unknown) => { throw new Error(`${String(error)}\n${JSON.stringify(await incident(configIncident), null, 1)}`); });
    t.diagnostic(`healthy again ${Math.round((Date.now() - killed) / 1000)} s after the kill`);

    assert.equal(readFileSync(path, 'utf8'), snapshotContent, 'the config is the snapshot again');
    const rejected = readdirSync(dirname(path)).filter((n) => n.startsWith(`${basename(path)}.lifeguard-rejected-`));
    assert.equal(rejected.length, 1, `kept files: ${rejected.join(', ')}`);
    assert.equal(readFileSync(join(dirname(path), rejected[0]!), 'utf8'), broken);

    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === configIncident, 60_000);
    const record = await incident(configIncident);
    assert.equal(record.status, 'resolved');
    const notes = record.timeline.map((e) => e.text);
    const r1 = notes.findIndex((text) => text.startsWith('R0 → R1'));
    const r2 = notes.findIndex((text) => text.startsWith('R1 → R2'));
    assert.ok(r1 >= 0 && r2 > r1, `timeline:\n${notes.join('\n')}`);
    assert.ok(!notes.some((text) => /^R2 → /.test(text)), `the restore must have been enough:\n${notes.join('\n')}`);
    // What the Gateway itself said about the file is the evidence the user gets: Clawdbot refuses to hot-reload
    // it ("Invalid config ... Unrecognized key"), or, when PM2 restarts it on that file before lifeguard has
    // restored the snapshot, exits 1 with "Config invalid".
    assert.ok(record.errorOutput.some((line) => line.includes(UNKNOWN_KEY)), `error output: ${JSON.stringify(record.errorOutput)}`);
    const restore = record.actions.find((a) => a.action === 'restore');
    assert.equal(restore?.status, 'succeeded', JSON.stringify(record.actions));
    assert.ok(restore?.detail?.includes(rejected[0]!), restore?.detail);
    assert.equal(record.actions.at(-1)?.action, 'restore');
    assert.deepEqual(eventsOf(configIncident), ['config-invalid', 'down', 'escalated', 'resolved']);
    t.diagnostic(`timeline:\n${notes.join('\n')}`);
  });
});

function mainConfigPath(run: LifeguardRun): string {
  return join(run.home, '.clawdbot', 'clawdbot.json');
}

/**
 * End-to-end: the repair commands a person or the rescue agent runs, against the real OpenClaw under a
 * real PM2. `diagnose` on a healthy main; a broken config is caught by `config validate` and `restart`
 * refuses to restart into it (the Gateway is left alone); `config restore` and `restart` bring it back,
 * audited in the incident; two restarts at once restart once; with the supervisor stopped, `diagnose`,
 * `logs` and `restart` still work.
 */
import { ownerCommand } from '../../src/core/command-line.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startProvisionedRun, type ProvisionedRun } from '../helpers/alerted-run.js';
import { LifeguardRun, describeResult, instanceOf, type CommandResult } from '../helpers/harness.js';
import type { IncidentRecord } from '../../src/incidents/record.js';
import type { Diagnosis } from '../../src/surfaces/diagnose.js';
import type { RestartReport } from '../../src/surfaces/repair/restart.js';

const UP_DEADLINE_MS = 180_000;
const RESTART_TIMEOUT = '150s';

describe('repair commands on OpenClaw: diagnose, config validate, restart, logs', { timeout: 20 * 60_000 }, () => {
  let lg: ProvisionedRun;
  let run: LifeguardRun;
  let ready = false;
  let token = '';
  const requireReady = () => assert.ok(ready, 'lifeguard did not come up (see the first failure)');
  const configPath = () => join(run.home, '.openclaw', 'openclaw.json');

  /** Runs a command that prints JSON; checks its exit code and that no secret is in what it printed. */
  const json = async <T>(args: readonly string[], code: number, timeoutMs = 240_000): Promise<{ value: T; result: CommandResult }> => {
    const result = await run.cli(args, timeoutMs);
    assert.equal(result.code, code, `${describeResult(result)}\n${run.diagnostics()}`);
    assert.ok(!token || !(result.stdout + result.stderr).includes(token), `the Gateway token leaked from ${result.command}`);
    return { value: JSON.parse(result.stdout) as T, result };
  };
  const mainPm2 = async () => {
    const app = (await run.pm2List()).find((a) => a.name === 'gateway-main');
    assert.ok(app, 'gateway-main is registered in PM2');
    return { pid: app.pid, restarts: Number(app.pm2_env.restart_time ?? 0), status: app.pm2_env.status };
  };
  const incident = async (id: string) => (await json<IncidentRecord>(['incident', 'show', id, '--json'], 0)).value;

  before(async () => {
    lg = await startProvisionedRun({
      flavour: 'openclaw',
      config: [
        '  snapshots: { healthyForMs: 3000 },',
        '  guard: { intervalMs: 5000 },',
        // Long enough for a second `restart` to wait out the first one's health wait.
        '  repair: { lockTimeoutMs: 200000 },',
      ],
    });
    ({ run } = lg);
  });

  after(() => lg?.teardown());

  it('comes up healthy with a snapshot of the main config', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);
    await lg.waitForSnapshots();
    token = (JSON.parse(readFileSync(configPath(), 'utf8')) as { gateway: { auth: { token: string } } }).gateway.auth.token;
    assert.ok(token.length >= 16);
    ready = true;
  });

  it('diagnose: a healthy main, and everything it looked at', async () => {
    requireReady();
    const { value: d } = await json<Diagnosis>(['diagnose', '--json'], 0);
    const pm2 = await mainPm2();
    assert.equal(d.instance, 'main');
    assert.equal(d.verdict, 'healthy', d.summary);
    assert.deepEqual(d.fix, []);
    assert.equal(d.probes.live, true);
    assert.equal(d.probes.ready, true);
    // The running Gateway's RPC answers in milliseconds; on a busy machine it may miss its time-out and the CLI decides.
    assert.equal(d.config.valid, true);
    assert.match(d.config.detail, /^valid \(checked by gateway-(rpc|cli)\)$/);
    assert.equal(d.port.port, run.ports.main);
    assert.deepEqual(d.port.holders.map((h) => h.pid), [pm2.pid], 'the main Gateway under PM2 holds its port');
    assert.deepEqual({ reachable: d.pm2.reachable, status: d.pm2.status, pid: d.pm2.pid }, { reachable: true, status: 'online', pid: pm2.pid });
    assert.ok(d.snapshots.count >= 1 && d.snapshots.matchesCurrent && d.snapshots.newest !== null);
    assert.equal(d.incident, null);
    assert.ok(d.logTail.length > 0, 'the Gateway has logged something');
    const text = await run.cli(['diagnose']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^main: HEALTHY\n {2}main is healthy/);
  });

  it('logs main --lines 5: the last five lines of its PM2 log files', async () => {
    requireReady();
    const { value } = await json<{ instance: string; files: Array<{ path: string; exists: boolean }>; lines: string[] }>(['logs', 'main', '--lines', '5', '--json'], 0);
    assert.equal(value.instance, 'main');
    assert.deepEqual(value.files.map((f) => f.path), ['out', 'err'].map((s) => join(run.lifeguardHome, 'logs', `gateway-main.${s}.log`)));
    assert.equal(value.lines.length, 5);
    const text = await run.cli(['logs', 'main', '--lines', '5']);
    assert.equal(text.code, 0);
    assert.equal(text.stdout.trimEnd().split('\n').length, 6, text.stdout);
  });

  let incidentId = '';
  it('a broken config: `config validate` says invalid, `restart` refuses (exit 3) and leaves the Gateway alone', { timeout: 3 * 60_000 }, async () => {
    requireReady();
    const good = readFileSync(configPath(), 'utf8');
    writeFileSync(configPath(), `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
    const before = await mainPm2();
    const { value: validated } = await json<{ valid: unknown; kind: string; issues: string[]; via: string; configPath: string }>(['config', 'validate', 'main', '--json'], 1);
    assert.equal(validated.valid, false);
    assert.equal(validated.kind, 'syntax');
    assert.equal(validated.configPath, configPath());
    // The supervisor opens an incident for it; the refusal below is recorded there.
    const status = await run.waitForStatus('the config-invalid incident', (s) => instanceOf(s, 'main').incident !== null, 60_000);
    incidentId = instanceOf(status, 'main').incident!.id;
    const { value: refused } = await json<RestartReport>(['restart', 'main', '--json', '--by', 'rescue-agent'], 3);
    assert.deepEqual(refused, { ...refused, instance: 'main', restarted: false, healthy: false, state: 'refused' });
    assert.match(refused.detail, /config is invalid \(syntax: /);
    const { value: d } = await json<Diagnosis>(['diagnose', 'main', '--json'], 1);
    assert.equal(d.verdict, 'config-invalid', d.summary);
    assert.deepEqual(d.fix, [ownerCommand('config diff main'), ownerCommand('config restore main')]);
    assert.equal(d.snapshots.matchesCurrent, false);
    assert.deepEqual(d.incident, { id: incidentId, rung: d.incident?.rung, status: 'open' });
    const after = await mainPm2();
    assert.deepEqual(after, before, 'the Gateway was not restarted into the broken config');
    const record = await incident(incidentId);
    assert.ok(record.timeline.some((e) => e.kind === 'audit' && /^rescue-agent: lifeguard restart main: refused/.test(e.text)), JSON.stringify(record.timeline, null, 1));
  });

  it('`config restore` then `restart main` bring it back healthy, both audited in the incident', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    assert.ok(incidentId, 'needs the incident of the previous test');
    const before = await mainPm2();
    const { value: restored } = await json<{ changed: boolean; keptAs: string | null; incident: string | null }>(['config', 'restore', 'main', '--no-restart', '--by', 'rescue-agent', '--json'], 0);
    assert.equal(restored.changed, true);
    assert.ok(restored.keptAs);
    assert.equal(restored.incident, incidentId);
    const { value: restarted } = await json<RestartReport>(['restart', 'main', '--timeout', RESTART_TIMEOUT, '--by', 'rescue-agent', '--json'], 0);
    assert.equal(restarted.restarted, true);
    assert.equal(restarted.healthy, true);
    assert.equal(restarted.state, 'healthy');
    assert.ok(restarted.waitedMs > 0 && restarted.waitedMs < 150_000);
    const after = await mainPm2();
    assert.notEqual(after.pid, before.pid);
    assert.equal(after.status, 'online');
    const { value: validated } = await json<{ valid: unknown; via: string }>(['config', 'validate', '--json'], 0);
    assert.deepEqual(validated, { ...validated, valid: true, via: 'gateway-rpc' });
    const audits = (await incident(incidentId)).timeline.filter((e) => e.kind === 'audit').map((e) => e.text);
    assert.ok(audits.some((t) => t.startsWith('rescue-agent: lifeguard config restore main --id ')), audits.join('\n'));
    assert.ok(audits.some((t) => /^rescue-agent: lifeguard restart main: restarted through PM2; healthy after/.test(t)), audits.join('\n'));
  });

  it('two `restart main` at once restart it once: the second waits for the lock and finds it fresh', { timeout: 6 * 60_000 }, async () => {
    requireReady();
    const before = await mainPm2();
    // Both asked before either restarted: whichever gets the lock second finds the other's fresh process.
    const results = await Promise.all([1, 2].map(() => run.cli(['restart', 'main', '--timeout', RESTART_TIMEOUT, '--json'], 400_000)));
    for (const result of results) assert.equal(result.code, 0, `${describeResult(result)}\n${run.diagnostics()}`);
    const reports = results.map((r) => JSON.parse(r.stdout) as RestartReport);
    assert.deepEqual(reports.map((r) => r.restarted).sort(), [false, true], JSON.stringify(reports, null, 1));
    assert.ok(reports.every((r) => r.healthy === true));
    assert.match(reports.find((r) => !r.restarted)!.detail, /while this command waited; not restarted again/);
    const after = await mainPm2();
    assert.equal(after.restarts, before.restarts + 1, 'PM2 restarted it exactly once');
  });

  it('with the supervisor stopped, diagnose, logs and restart still work', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    const stopped = await run.pm2(['stop', 'lifeguard']);
    assert.equal(stopped.code, 0, describeResult(stopped));
    const pm2Daemon = run.pm2DaemonPid;
    const { value: d } = await json<Diagnosis>(['diagnose', '--json'], 0);
    assert.equal(d.verdict, 'healthy', d.summary);
    await json(['logs', 'main', '--lines', '5', '--json'], 0);
    const before = await mainPm2();
    const { value: restarted } = await json<RestartReport>(['restart', 'main', '--timeout', RESTART_TIMEOUT, '--json'], 0);
    assert.equal(restarted.healthy, true, restarted.detail);
    const after = await mainPm2();
    assert.notEqual(after.pid, before.pid);
    assert.equal((await run.pm2List()).find((a) => a.name === 'lifeguard')?.pm2_env.status, 'stopped', 'the supervisor stays stopped');
    assert.equal(run.pm2DaemonPid, pm2Daemon, 'the same PM2 daemon throughout');
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/core/errors.js';
import {
  BUSY_EXIT_CODE, describeBusy, readRepairLockHolder, repairLockPath, withRepairLock, type RepairLockHolder,
} from '../../src/actions/repair-lock.js';
import type { IncidentRecord } from '../../src/incidents/record.js';
import { createIncident } from '../../src/incidents/store.js';
import { parseWaitTimeout } from '../../src/surfaces/commands/repair.js';
import { parseLineCount } from '../../src/surfaces/repair/log-tail.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('the repair lock', () => {
  let home: string;
  before(() => { home = mkdtempSync(join(tmpdir(), 'lg-lock-')); });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('a second holder waits, then gives up with exit code 4 naming who holds it and for what', async () => {
    let release!: () => void;
    const holding = new Promise<void>((resolve) => { release = resolve; });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const first = withRepairLock(home, { timeoutMs: 1_000, who: 'rescue-agent', what: 'restart main', expectedMs: 120_000 }, async () => {
      entered();
      await holding;
      return 'first done';
    });
    await inside;
    assert.equal((await readRepairLockHolder(home))?.who, 'rescue-agent');
    const started = Date.now();
    const second = await withRepairLock(home, { timeoutMs: 1_200, who: 'alice (cli)', what: 'config restore main' }, async () => 'second ran')
      .then(() => undefined, (error: unknown) => error);
    const waited = Date.now() - started;
    assert.ok(second instanceof UserError, String(second));
    assert.equal(second.exitCode, BUSY_EXIT_CODE);
    assert.match(second.message, /^busy: rescue-agent is running restart main since \d{4}-\d\d-\d\dT[\d:.]+Z \(pid \d+\); waited 1 s; try again in 1[12]\d s$/);
    assert.ok(waited >= 1_100 && waited < 3_000, `waited ${waited} ms`);
    release();
    assert.equal(await first, 'first done');
    assert.equal(await readRepairLockHolder(home), undefined, 'the holder file goes with the lock');
  });

  it('serializes: a waiter runs as soon as the holder is done, never alongside it', async () => {
    const events: string[] = [];
    const run = (name: string, ms: number) => withRepairLock(home, { timeoutMs: 10_000, who: name, what: 'test' }, async () => {
      events.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      events.push(`${name} out`);
    });
    await Promise.all([run('a', 400), new Promise((resolve) => setTimeout(resolve, 50)).then(() => run('b', 10))]);
    assert.deepEqual(events, ['a in', 'a out', 'b in', 'b out']);
  });

  it('releases when the repair throws', async () => {
    await assert.rejects(withRepairLock(home, { timeoutMs: 1_000, who: 'x', what: 'y' }, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await withRepairLock(home, { timeoutMs: 1_000, who: 'x', what: 'y' }, async () => 'again'), 'again');
  });

  it('takes over a stale lock left by a holder that died', async () => {
    const stale = mkdtempSync(join(tmpdir(), 'lg-lock-stale-'));
    try {
      mkdirSync(join(stale, 'state'), { recursive: true });
      writeFileSync(repairLockPath(stale), '');
      const lockDir = `${repairLockPath(stale)}.lock`;
      mkdirSync(lockDir);
      const old = new Date(Date.now() - 60_000);
      utimesSync(lockDir, old, old);
      writeFileSync(join(stale, 'state', 'repair.lock.holder.json'), JSON.stringify({ who: 'ghost', what: 'restart main', pid: 999_999_999, host: hostname(), since: old.getTime() }));
      // Not even a moment of waiting is allowed here: a dead holder's lock is taken over at once, whatever the clocks say.
      assert.equal(await withRepairLock(stale, { timeoutMs: 0, who: 'me', what: 'restart main' }, async () => (await readRepairLockHolder(stale))?.who), 'me');
    } finally {
      rmSync(stale, { recursive: true, force: true });
    }
  });

  it('tells when to try again, and when the holder is already gone', () => {
    const now = Date.parse('2026-11-25T21:00:00Z');
    const holder: RepairLockHolder = { who: 'lifeguard', what: 'R2 restore of main', pid: 42, host: 'elsewhere', since: now - 10_000, expectedUntil: now + 90_000 };
    const ctx = { now, waitedMs: 30_000, refreshedAt: now - 2_000, alive: () => true };
    assert.equal(describeBusy(holder, ctx), 'busy: lifeguard is running R2 restore of main since 2026-11-25T20:59:50.000Z (pid 42 on elsewhere); waited 30 s; try again in 90 s');
    const { expectedUntil: _none, ...noEstimate } = holder;
    assert.match(describeBusy(noEstimate, ctx), /try again in 30 s$/);
    assert.equal(describeBusy(undefined, ctx), 'busy: another repair holds the repair lock; waited 30 s; try again in 28 s');
    const local = { ...holder, host: (spawnSync('hostname', { encoding: 'utf8' }).stdout || '').trim() || holder.host };
    if (local.host !== holder.host) assert.match(describeBusy(local, { ...ctx, alive: () => false }), /but that process is gone and the lock frees itself once stale; waited 30 s; try again in 28 s$/);
  });
});

describe('argument values', () => {
  it('--timeout takes 5s..1h in the same grammar as pause --for', () => {
    assert.equal(parseWaitTimeout('180s'), 180_000);
    assert.equal(parseWaitTimeout('3m'), 180_000);
    assert.equal(parseWaitTimeout('90'), 90_000);
    assert.equal(parseWaitTimeout('5000ms'), 5_000);
    assert.equal(parseWaitTimeout('1h'), 3_600_000);
    assert.equal(parseWaitTimeout('2m30s'), 150_000);
    for (const bad of ['2s', '61m', '1h30m', 'soon', '-5s', '1d', '']) {
      assert.throws(() => parseWaitTimeout(bad), (error: unknown) => error instanceof UserError && error.exitCode === 2, bad);
    }
  });

  it('--lines takes 1..5000', () => {
    assert.equal(parseLineCount('1'), 1);
    assert.equal(parseLineCount('5000'), 5000);
    for (const bad of ['0', '5001', '-1', '2.5', 'ten', '']) {
      assert.throws(() => parseLineCount(bad), (error: unknown) => error instanceof UserError && error.exitCode === 2, bad);
    }
  });
});

describe('repair commands without a running Gateway or PM2 (built CLI)', () => {
  const TOKEN = 'unit-repair-token-0123456789';
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let configPath: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const goodConfig = `{ gateway: { mode: 'local', auth: { mode: 'token', token: '${TOKEN}' } } }\n`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lg-repair-'));
    const lgHome = join(dir, 'lg');
    mkdirSync(join(dir, '.openclaw'), { recursive: true });
    configPath = join(dir, '.openclaw', 'openclaw.json');
    writeFileSync(configPath, goodConfig);
    // Ports nothing listens on; never the Gateways' defaults.
    const base = 41_000 + 10 * Math.floor(Math.random() * 800);
    writeFileSync(join(dir, 'lifeguard.json5'), `{ instances: { main: { port: ${base} }, rescue: { port: ${base + 200} } }, repair: { lockTimeoutMs: 1000 } }\n`);
    env = {
      PATH: '/usr/bin:/bin', HOME: dir, USER: 'tester', LIFEGUARD_HOME: lgHome, LIFEGUARD_CONFIG: join(dir, 'lifeguard.json5'),
      PM2_HOME: join(dir, 'pm2'), PM2_DISABLE_VERSION_CHECK: '1',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bad usage exits 2: unknown instance, missing instance, bad values', () => {
    for (const args of [['diagnose', 'nope'], ['restart', 'nope'], ['logs', 'nope'], ['config', 'validate', 'nope']]) {
      const result = cli(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /unknown instance "nope"; use main or rescue/);
    }
    for (const args of [['restart'], ['logs'], ['restart', 'main', '--bogus']]) assert.equal(cli(...args).status, 2, args.join(' '));
    assert.match(cli('logs', 'main', '--lines', '0').stderr, /--lines "0" must be a whole number from 1 to 5000/);
    assert.equal(cli('restart', 'main', '--timeout', '1s').status, 2);
  });

  it('every command documents its exit codes in its help', () => {
    for (const args of [['diagnose'], ['restart'], ['logs'], ['config', 'validate'], ['config', 'restore']]) {
      const help = cli(...args, '--help');
      assert.equal(help.status, 0, args.join(' '));
      assert.match(help.stdout, /Exit codes:\n {2}0 {2}/, args.join(' '));
    }
    assert.match(cli('restart', '--help').stdout, /3 {2}refused: the config is invalid[\s\S]*4 {2}busy[\s\S]*5 {2}PM2 not reachable/);
  });

  it('logs: both PM2 log files in time order, secrets masked, bounded by --lines', () => {
    const logs = join(env.LIFEGUARD_HOME!, 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'gateway-main.out.log'), `2026-11-25T21:00:01.000+00:00 [gateway] starting\n2026-11-25T21:00:03.000+00:00 [gateway] token is ${TOKEN}\n`);
    writeFileSync(join(logs, 'gateway-main.err.log'), '2026-11-25T21:00:02.000+00:00 [gateway] warn {"apiKey":"sk-abcdef"}\n\u001b[31m2026-11-25T21:00:04.000+00:00 red\u001b[0m\n');
    const shown = cli('logs', 'main', '--lines', '3', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    const parsed = JSON.parse(shown.stdout) as { instance: string; files: Array<{ path: string; stream: string; exists: boolean }>; lines: string[] };
    assert.equal(parsed.instance, 'main');
    assert.deepEqual(parsed.files.map((f) => [f.stream, f.exists]), [['out', true], ['err', true]]);
    assert.deepEqual(parsed.lines, [
      '2026-11-25T21:00:02.000+00:00 [gateway] warn {"apiKey":"[redacted]"}',
      '2026-11-25T21:00:03.000+00:00 [gateway] token is [redacted]',
      '2026-11-25T21:00:04.000+00:00 red',
    ]);
    assert.ok(!shown.stdout.includes(TOKEN));
    const text = cli('logs', 'rescue');
    assert.equal(text.status, 0);
    assert.match(text.stdout, /rescue: last 0 lines of \(no log files yet\)/);
  });

  it('config validate: a syntax error is invalid (exit 1), a good file without a Gateway to ask is unknown (exit 1, says why)', () => {
    writeFileSync(configPath, `{ gateway: { mode: 'local', auth: { token: '${TOKEN}' } }, oops }\n`);
    const bad = cli('config', 'validate', '--json');
    assert.equal(bad.status, 1);
    const report = JSON.parse(bad.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['instance', 'configPath', 'valid', 'kind', 'issues', 'via']);
    assert.equal(report.valid, false);
    assert.equal(report.kind, 'syntax');
    assert.equal(report.via, 'json5');
    assert.ok(!bad.stdout.includes(TOKEN));
    writeFileSync(configPath, goodConfig);
    const unknown = cli('config', 'validate', 'main', '--json');
    assert.equal(unknown.status, 1);
    const said = JSON.parse(unknown.stdout) as Record<string, unknown>;
    assert.equal(said.valid, 'unknown');
    assert.equal(said.via, null);
    assert.match(String(said.detail), /cannot run the Gateway's validator: No openclaw Gateway found/);
    assert.match(cli('config', 'validate').stdout, /could not be checked/);
  });

  it('restart refuses an invalid config (exit 3) and records the refusal in the open incident', async () => {
    const record = openIncident(Date.now() - 60_000);
    await createIncident(env.LIFEGUARD_HOME!, record);
    writeFileSync(configPath, '{ gateway: { mode: "local", }, }, }\n');
    const refused = cli('restart', 'main', '--json', '--by', 'rescue-agent');
    assert.equal(refused.status, 3, refused.stderr);
    const report = JSON.parse(refused.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['instance', 'restarted', 'healthy', 'state', 'waitedMs', 'detail']);
    assert.equal(report.restarted, false);
    assert.equal(report.state, 'refused');
    assert.match(String(report.detail), /config is invalid \(syntax: .*Fix: edit .*openclaw\.json \(there is no snapshot to restore yet.*--force/);
    const stored = JSON.parse(readFileSync(join(env.LIFEGUARD_HOME!, 'incidents', `${record.id}.json`), 'utf8')) as IncidentRecord;
    const audit = stored.timeline.filter((e) => e.kind === 'audit').at(-1);
    assert.match(audit?.text ?? '', /^rescue-agent: lifeguard restart main: refused: the config is invalid/);
  });

  it('restart with PM2 down exits 5 and never starts a PM2 daemon', () => {
    const forced = cli('restart', 'main', '--force');
    assert.equal(forced.status, 5, forced.stderr);
    assert.match(forced.stderr, /PM2 is not reachable: no PM2 daemon runs for .*\nFix: start everything with: npx lifeguard up/);
    assert.equal(existsSync(join(env.PM2_HOME!, 'pm2.pid')), false);
    const incidents = join(env.LIFEGUARD_HOME!, 'incidents');
    const stored = JSON.parse(readFileSync(join(incidents, readdirSync(incidents)[0]!), 'utf8')) as IncidentRecord;
    assert.match(stored.timeline.at(-1)?.text ?? '', /^tester \(cli\): lifeguard restart main --force: failed: PM2 is not reachable/);
    writeFileSync(configPath, goodConfig);
  });

  it('diagnose works with nothing running: not-running, exit 1, the documented shape', () => {
    const result = cli('diagnose', '--json');
    assert.equal(result.status, 1, result.stderr);
    const d = JSON.parse(result.stdout) as Record<string, unknown> & { pm2: { reachable: boolean }; fix: string[]; probes: { live: boolean } };
    assert.deepEqual(Object.keys(d), ['instance', 'verdict', 'summary', 'fix', 'probes', 'config', 'port', 'pm2', 'recentExits', 'incident', 'snapshots', 'logTail']);
    assert.equal(d.verdict, 'not-running');
    assert.equal(d.pm2.reachable, false);
    assert.equal(d.probes.live, false);
    assert.deepEqual(d.fix, ['npx lifeguard up']);
    assert.match(String((d.incident as { id: string } | null)?.id), /^main-/);
    assert.ok(!result.stdout.includes(TOKEN));
    assert.equal(existsSync(join(env.PM2_HOME!, 'pm2.pid')), false);
    const text = cli('diagnose', 'main');
    assert.match(text.stdout, /^main: NOT-RUNNING\n/);
  });

  it('a restart while another repair holds the lock exits 4 and names the holder', async () => {
    const result = await withRepairLock(env.LIFEGUARD_HOME!, { timeoutMs: 1_000, who: 'lifeguard', what: 'R2 restore of main', expectedMs: 60_000 }, () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'restart', 'main'], { env });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        child.on('close', (code) => resolve({ code, stderr }));
      }));
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /^busy: lifeguard is running R2 restore of main since .* \(pid \d+\); waited 1 s; try again in \d+ s/);
  });
});

/**
 * An open incident of the main with only what the audit trail reads (the engine's own fields are not this
 * test's business and keep growing).
 */
function openIncident(at: number): IncidentRecord {
  const id = `main-${new Date(at).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}Z`;
  return { id, instance: 'main', status: 'open', openedAt: at, rung: 'R1', timeline: [], actions: [], deliveries: [] } as unknown as IncidentRecord;
}

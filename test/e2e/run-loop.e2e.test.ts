/**
 * `lifeguard run` under a shell restart loop (how Docker or systemd run it, on a machine without systemd):
 * the whole stack comes up in the foreground; when its PM2 is SIGKILLed, `run` exits, the loop starts it
 * again, the leftovers of the dead PM2 are stopped, both Gateways are healthy again within 60 s plus their
 * cold start, and an alert says what happened. A SIGTERM then stops everything.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { LIFEGUARD_CLI, instanceOf, pollUntil, type StatusView } from '../helpers/harness.js';
import { isAlive } from '../helpers/processes.js';

const UP_DEADLINE_MS = 240_000;
/** The issue's bound: 60 s, plus the Gateways' cold start (up to a minute each on a busy 2-core machine). */
const BACK_DEADLINE_MS = 60_000 + 120_000;

const bothHealthy = (s: StatusView) => s.supervisor.running && instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy';

describe('lifeguard run under a restart loop, and a killed PM2', { timeout: 12 * 60_000 }, () => {
  let lg: AlertedRun;
  let loop: ChildProcess | undefined;
  let output: string;
  const pm2Pid = () => Number(readFileSync(join(lg.run.pm2Home, 'pm2.pid'), 'utf8').trim());

  before(async () => {
    lg = await startAlertedRun({ flavour: 'openclaw' });
    output = join(lg.run.dir, 'loop.log');
    const log = openSync(output, 'a');
    loop = spawn('bash', ['-c', `while true; do "${process.execPath}" "${LIFEGUARD_CLI}" run; echo "run exited $?"; sleep 1; done`], {
      env: lg.run.env, cwd: lg.run.dir, stdio: ['ignore', log, log], detached: true,
    });
    closeSync(log);
  });

  after(async () => {
    if (loop?.pid) {
      try {
        process.kill(-loop.pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await lg?.teardown();
  });

  it('brings the whole stack up in the foreground', { timeout: UP_DEADLINE_MS + 30_000 }, async () => {
    await lg.run.waitForStatus('both Gateways healthy under lifeguard run', bothHealthy, UP_DEADLINE_MS);
    const status = await lg.run.status();
    assert.equal(status.instances.every((i) => i.pm2Status === 'online'), true);
  });

  it('after a SIGKILL of its PM2, everything is back and healthy within 60 s plus cold start, and the owner is told', { timeout: BACK_DEADLINE_MS + 60_000 }, async () => {
    const dead = pm2Pid();
    const before = await lg.run.status();
    const killedAt = Date.now();
    process.kill(dead, 'SIGKILL');
    await pollUntil('a new PM2', () => { try { return pm2Pid() !== dead && isAlive(pm2Pid()); } catch { return false; } }, { timeoutMs: 60_000, intervalMs: 250 });
    const back = await lg.run.waitForStatus('both Gateways healthy again', (s) => bothHealthy(s) && instanceOf(s, 'main').pid !== instanceOf(before, 'main').pid, BACK_DEADLINE_MS);
    const tookMs = Date.now() - killedAt;
    process.stdout.write(`# back and healthy ${Math.round(tookMs / 1000)} s after the PM2 SIGKILL\n`);
    assert.ok(back.supervisor.pid !== before.supervisor.pid, 'a new supervisor');
    // One supervisor and one Gateway per instance: the dead PM2's leftovers were stopped.
    for (const pid of [before.supervisor.pid, ...before.instances.map((i) => i.pid)]) if (pid !== null) assert.equal(isAlive(pid), false, `pid ${pid} of the dead PM2 still runs`);
    const alert = await lg.waitForEvent('the alert about the dead PM2', (e) => e.idempotencyKey.startsWith('pm2-restarted-'), 60_000);
    assert.match(String(alert.body.summary), /lifeguard's PM2 died at .* \(signal SIGKILL\), taking the Gateways and the supervisor with it\. lifeguard started PM2, both Gateways and the supervisor again/);
    assert.match(readFileSync(output, 'utf8'), /PM2 ended by itself \(signal SIGKILL\)/);
  });

  it('a SIGTERM to `lifeguard run` stops PM2 and the Gateways, and exits 0', { timeout: 120_000 }, async () => {
    const status = await lg.run.status();
    const pids = [status.supervisor.pid, ...status.instances.map((i) => i.pid)].filter((pid): pid is number => pid !== null);
    // Stop the loop first, so that it does not start `run` again, then the run itself.
    process.kill(loop!.pid!, 'SIGKILL');
    const runPid = Number(JSON.parse(readFileSync(join(lg.run.lifeguardHome, 'state', 'run.json'), 'utf8')).pid);
    process.kill(runPid, 'SIGTERM');
    await pollUntil('the stack to stop', () => !isAlive(runPid) && pids.every((pid) => !isAlive(pid)), { timeoutMs: 90_000, intervalMs: 500 });
    assert.throws(() => readFileSync(join(lg.run.lifeguardHome, 'state', 'run.json')), 'a clean stop leaves no run record behind');
  });
});

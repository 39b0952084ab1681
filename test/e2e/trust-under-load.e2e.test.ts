/**
 * Trust under real load: with CPU and disk I/O load on the machine (stress-ng, or Node workers without it)
 * and both real Gateways cold-starting into it, lifeguard calls nothing hung and kills nothing; a main whose
 * event loop really spins is still called hung and repaired. Then `lifeguard restart` of a frozen main wins.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { REPO_ROOT, describeResult, instanceOf, pollUntil } from '../helpers/harness.js';
import { diskDir } from '../helpers/stress.js';
import { startLoad } from '../helpers/load.js';

const SPIN_PRELOAD = fileURLToPath(new URL('../fixtures/spin-preload.mjs', import.meta.url));
const LOADED_WATCH_MS = 100_000;

describe('trust under load (real OpenClaw Gateways under a real PM2)', { timeout: 15 * 60_000 }, () => {
  let setup: AlertedRun;
  let trigger: string;

  before(async () => {
    const scratch = `/tmp/lg-spin-${process.pid}`;
    trigger = `${scratch}.trigger`;
    setup = await startAlertedRun({
      flavour: 'openclaw',
      mainEnv: { NODE_OPTIONS: `--import ${SPIN_PRELOAD}`, LG_TEST_SPIN_TRIGGER: trigger },
    });
    await setup.comeUp(240_000);
  });
  after(async () => {
    rmSync(trigger, { force: true });
    await setup?.teardown();
  });

  it('kills nothing that is alive while both Gateways restart into CPU and disk load', async () => {
    const { run } = setup;
    const mark = { main: run.journalSince(0, 'main').length, rescue: run.journalSince(0, 'rescue').length };
    const load = startLoad({ cpuWorkers: 4, ioWorkers: 2, under: diskDir(run.dir, REPO_ROOT), maxSeconds: 300 });
    try {
      // Both Gateways cold-start at once into the load: the moment an older lifeguard killed healthy ones.
      const restarted = await run.pm2(['restart', 'gateway-main', 'gateway-rescue'], { timeoutMs: 120_000 });
      assert.equal(restarted.code, 0, describeResult(restarted));
      await new Promise((resolve) => setTimeout(resolve, LOADED_WATCH_MS));
    } finally {
      await load.stop();
    }
    await run.waitForStatus('both healthy after the load', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy', 240_000);
    const since = [...run.journalSince(mark.main, 'main'), ...run.journalSince(mark.rescue, 'rescue')];
    assert.deepEqual(since.filter((e) => e.classification === 'hung'), [], `hung verdicts under ${load.tool} load:\n${since.map((e) => JSON.stringify(e)).join('\n')}\n${run.diagnostics()}`);
    assert.deepEqual(setup.receiver.events().filter((e) => e.event === 'down'), [], 'no outage alert for Gateways that were only slow');
  });

  it('still calls a spinning main hung, kills it and has it healthy again', async () => {
    const { run } = setup;
    const before = instanceOf(await run.status(), 'main');
    const mark = run.journalSince(0, 'main').length;
    writeFileSync(trigger, 'spin\n');
    try {
      const hung = await pollUntil('main down [hung]', () => run.journalSince(mark, 'main').find((e) => e.to === 'down' && e.classification === 'hung'), {
        timeoutMs: 60_000, intervalMs: 250, describeLast: () => run.diagnostics(),
      });
      assert.match(hung.reason, /no answer for \d+ probes over \d+ s while the process is alive/);
    } finally {
      // The preload removes the trigger when it starts spinning; a test that failed before must not leave it.
      rmSync(trigger, { force: true });
    }
    const after = await run.waitForStatus('main healthy on a new pid', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'main').pid !== before.pid, 240_000);
    assert.notEqual(instanceOf(after, 'main').pid, before.pid);
    const down = await setup.waitForEvent('a down alert classified hung', (e) => e.event === 'down' && (e.body.details as Record<string, string>).classification === 'hung', 30_000);
    assert.ok(down.incidentId);
  });

  it("lets the owner's restart of a frozen main through: killed, restarted, healthy, exit 0", async () => {
    const { run } = setup;
    const frozen = instanceOf(await run.waitForStatus('main healthy', (s) => instanceOf(s, 'main').state === 'healthy', 240_000), 'main').pid!;
    // Paused, so that lifeguard's own kill cannot be what repairs it: the owner's command must do it alone.
    const paused = await run.cli(['pause', 'main', '--for', '10m']);
    assert.equal(paused.code, 0, describeResult(paused));
    process.kill(frozen, 'SIGSTOP');
    try {
      const restarted = await run.cli(['restart', 'main', '--json'], 300_000);
      assert.equal(restarted.code, 0, describeResult(restarted));
      const report = JSON.parse(restarted.stdout) as { healthy: boolean };
      assert.equal(report.healthy, true, restarted.stdout);
      assert.equal(existsSync(`/proc/${frozen}`), false, 'the frozen process is gone');
    } finally {
      try { process.kill(frozen, 'SIGKILL'); } catch { /* gone */ }
      await run.cli(['resume', 'main']);
    }
  });
});

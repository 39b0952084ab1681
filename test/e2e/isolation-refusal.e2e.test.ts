/**
 * End-to-end: a config whose rescue port overlaps the main Gateway's derived ports is refused before
 * anything starts, both by `lifeguard up` and by `pm2 start ecosystem.config.cjs` run directly.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  LifeguardRun, REPO_ROOT, describeResult, pickFreeBasePorts, provisionRuntime, stripAnsi,
} from '../helpers/harness.js';

describe('overlapping ports (rescue = main + 4) are refused and nothing starts', { timeout: 8 * 60_000 }, () => {
  let run: LifeguardRun;
  let main: number;
  let rescue: number;

  before(async () => {
    const [base] = await pickFreeBasePorts(1);
    main = base!;
    rescue = main + 4;
    run = await LifeguardRun.create({ flavour: 'openclaw', ports: { main, rescue } });
  });

  after(async () => {
    if (!run) return;
    await run.teardown();
    run.remove();
  });

  // Without a Gateway to run, `up` would stop at "gateway.bin does not exist" before checking isolation.
  it('has the pinned openclaw runtime', { timeout: 11 * 60_000 }, async () => {
    const result = await provisionRuntime('openclaw', run.dir);
    assert.equal(result.code, 0, describeResult(result));
  });

  it('`lifeguard up` exits 1 naming the overlap and a fix; no PM2 daemon, no app, no Gateway config', async () => {
    const up = await run.cli(['up']);
    assert.equal(up.code, 1, describeResult(up));
    const message = stripAnsi(up.stderr);
    assert.match(message, new RegExp(`main's canvas host \\(base\\+4\\) ${rescue} overlaps rescue's gateway \\(HTTP \\+ WebSocket\\) ${rescue}`));
    assert.match(message, new RegExp(`Fix: move instances\\.rescue\\.port at least 120 away from ${main}`));
    assert.match(message, /Nothing was started\./);
    assert.equal(existsSync(join(run.pm2Home, 'pm2.pid')), false, '`up` spawned a PM2 daemon');
    assert.equal(existsSync(join(run.home, '.openclaw', 'openclaw.json')), false, '`up` wrote a Gateway config although it refused');
    assert.equal(existsSync(join(run.home, '.openclaw-rescue', 'openclaw.json')), false, '`up` wrote a Gateway config although it refused');

    // A fresh PM2_HOME: jlist spawns an empty daemon, which must list nothing.
    assert.deepEqual(await run.pm2List(), []);

    const check = await run.cli(['check']);
    assert.equal(check.code, 1, describeResult(check));
    assert.match(check.stdout, /overlaps rescue's gateway/);
  });

  it('`pm2 start ecosystem.config.cjs` directly fails and starts nothing', async () => {
    const start = await run.pm2(['start', 'ecosystem.config.cjs'], { cwd: REPO_ROOT, timeoutMs: 60_000 });
    const output = stripAnsi(`${start.stdout}\n${start.stderr}`);
    // PM2 7.0.4 reports the throwing ecosystem file as "malformated" and exits 1.
    assert.notEqual(start.code, 0, describeResult(start));
    assert.match(output, new RegExp(`overlaps rescue's gateway \\(HTTP \\+ WebSocket\\) ${rescue}`));
    assert.match(output, /Nothing was started/);
    assert.deepEqual(await run.pm2List(), []);
    const daemon = run.pm2DaemonPid;
    const strays = run.processes().filter((pid) => pid !== daemon);
    assert.deepEqual(strays, [], 'processes other than the PM2 daemon run under this PM2_HOME');
  });
});

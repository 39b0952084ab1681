/**
 * End-to-end: real OpenClaw and Clawdbot Gateways under a real, private PM2 daemon, driven through
 * lifeguard's CLI (`up`, `status --json`, `check --json`, `down`) the way a user drives it. Assertions are
 * on what the user sees: exit codes, status JSON, events.jsonl lines, and the processes themselves.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import JSON5 from 'json5';
import {
  EXPECTED_RUNTIME, FLAVOURS, LifeguardRun, describeResult, formatStatus, instanceOf, pollUntil, provisionRuntime,
  runCommand, runtimePaths, type JournalEntry, type StatusView,
} from '../helpers/harness.js';
import { descendantsOf } from '../../src/actions/kill-tree.js';
import { environOf, executableOf, isAlive, listeningPortsOf, processState } from '../helpers/processes.js';

/** Clawdbot's first start on a cold jiti cache takes ~60 s on two busy cores; PM2 adds a little. */
const UP_DEADLINE_MS = 180_000;
/** A restarted Gateway is warm: 8-30 s here. */
const RECOVERY_DEADLINE_MS = 120_000;
const CANARY = 'LIFEGUARD_E2E_CANARY';

const bothHealthy = (s: StatusView) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy';

function lines(entries: readonly JournalEntry[]): string {
  return entries.map((e) => `${e.from}->${e.to}${e.classification ? `[${e.classification}]` : ''}`).join(', ') || '(none)';
}

for (const flavour of FLAVOURS) {
  const pin = EXPECTED_RUNTIME[flavour];
  const prefix = pin.envPrefix;

  describe(`${flavour} ${pin.version} on Node ${pin.nodeVersion} under PM2`, { timeout: 15 * 60_000 }, () => {
    let run: LifeguardRun;
    let provisioned = false;
    let upOk = false;
    const requireUp = () => {
      if (!upOk) throw new Error('`lifeguard up` did not bring both Gateways up (see the earlier failure); nothing to test');
    };

    before(async () => {
      run = await LifeguardRun.create({ flavour, extraEnv: { [CANARY]: 'leak' } });
    });

    after(async () => {
      if (!run) return;
      await run.teardown();
      run.remove();
    });

    it(`provisions ${pin.packageName}@${pin.version} into .runtime/${flavour} with \`lifeguard runtime\``, { timeout: 11 * 60_000 }, async () => {
      const paths = runtimePaths(flavour);
      const result = await provisionRuntime(flavour, run.dir);
      assert.equal(result.code, 0, `provisioning failed:\n${describeResult(result)}`);
      const reported = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as { flavour: string; dir: string; entry: string; node: string };
      assert.deepEqual(reported, { flavour, dir: paths.dir, entry: paths.entry, node: paths.node });
      const manifest = JSON.parse(readFileSync(paths.packageJson, 'utf8')) as { version: string };
      assert.equal(manifest.version, pin.version, `.runtime/${flavour} holds ${pin.packageName}@${manifest.version}; delete it to reinstall the pinned one`);
      const node = await runCommand(paths.node, ['--version'], { env: { PATH: '/usr/bin:/bin' }, cwd: run.dir, timeoutMs: 30_000 });
      assert.equal(node.stdout.trim(), pin.nodeVersion, describeResult(node));
      provisioned = true;
    });

    it('`up` starts main and rescue healthy, isolated from each other and from the caller\'s environment', { timeout: 6 * 60_000 }, async () => {
      assert.ok(provisioned, 'the Gateway is not provisioned (see the previous failure)');
      const up = await run.cli(['up'], 120_000);
      assert.equal(up.code, 0, describeResult(up));
      assert.match(up.stderr, /Started gateway-main, gateway-rescue, lifeguard\./);

      const status = await run.waitForStatus('main and rescue to be healthy', bothHealthy, UP_DEADLINE_MS);
      upOk = true;
      const main = instanceOf(status, 'main');
      const rescue = instanceOf(status, 'rescue');
      assert.equal(status.supervisor.running, true, `supervisor not running: ${JSON.stringify(status.supervisor)}`);
      for (const [instance, port] of [[main, run.ports.main], [rescue, run.ports.rescue]] as const) {
        assert.equal(instance.port, port);
        assert.equal(instance.pm2Status, 'online');
        assert.ok(instance.pid !== null && isAlive(instance.pid), `${instance.instance} pid ${instance.pid} is not running`);
        assert.equal(instance.lastProbe?.ok, true, `${instance.instance} last probe: ${JSON.stringify(instance.lastProbe)}`);
      }
      assert.notEqual(main.pid, rescue.pid);

      // The user's view of the layout: `check --json` passes and every path differs between the two.
      const check = await run.cli(['check', '--json']);
      assert.equal(check.code, 0, describeResult(check));
      const layout = JSON.parse(check.stdout) as {
        ok: boolean; flavour: string;
        instances: Array<{ name: string; port: number; configPath: string; stateDir: string; workspace: string; logFile: string }>;
      };
      assert.equal(layout.ok, true);
      assert.equal(layout.flavour, flavour);
      const [mainLayout, rescueLayout] = [layout.instances.find((i) => i.name === 'main')!, layout.instances.find((i) => i.name === 'rescue')!];
      assert.equal(mainLayout.port, run.ports.main);
      assert.equal(rescueLayout.port, run.ports.rescue);
      for (const key of ['configPath', 'stateDir', 'workspace', 'logFile'] as const) {
        assert.notEqual(mainLayout[key], rescueLayout[key], `main and rescue share ${key}`);
        assert.ok(mainLayout[key].startsWith(`${run.home}/`), `main ${key} ${mainLayout[key]} is outside the test HOME`);
        assert.ok(rescueLayout[key].startsWith(`${run.home}/`), `rescue ${key} ${rescueLayout[key]} is outside the test HOME`);
      }
      for (const l of [mainLayout, rescueLayout]) {
        const gatewayConfig = JSON5.parse(readFileSync(l.configPath, 'utf8')) as { gateway?: { port?: number; bind?: string } };
        assert.equal(gatewayConfig.gateway?.port, l.port, `${l.configPath} does not set the instance's port`);
        assert.equal(gatewayConfig.gateway?.bind, 'loopback');
      }

      // The processes themselves: the pinned Node, their own config/state/port, their own listening port only.
      const paths = runtimePaths(flavour);
      for (const [view, l, other] of [[main, mainLayout, rescueLayout], [rescue, rescueLayout, mainLayout]] as const) {
        const pid = view.pid!;
        assert.equal(executableOf(pid), paths.node, `${view.instance} does not run on the provisioned Node`);
        const env = environOf(pid);
        assert.ok(env, `cannot read /proc/${pid}/environ`);
        assert.equal(env[`${prefix}_CONFIG_PATH`], l.configPath);
        assert.equal(env[`${prefix}_STATE_DIR`], l.stateDir);
        assert.equal(env[`${prefix}_GATEWAY_PORT`], String(l.port));
        assert.equal(env.HOME, run.home);
        assert.equal(env[CANARY], undefined, `${view.instance} Gateway inherited ${CANARY} from the shell that ran \`up\``);
        const ports = listeningPortsOf(pid);
        assert.ok(ports.includes(l.port), `${view.instance} (pid ${pid}) listens on ${ports.join(', ')}, not on ${l.port}`);
        assert.ok(!ports.some((p) => p >= other.port && p <= other.port + 110), `${view.instance} listens inside the other instance's ports: ${ports.join(', ')}`);
      }
      const rescueEnv = environOf(rescue.pid!)!;
      assert.equal(rescueEnv.LIFEGUARD_MAIN_CONFIG_PATH, mainLayout.configPath);
      assert.equal(environOf(main.pid!)!.LIFEGUARD_MAIN_CONFIG_PATH, undefined);

      // PM2's own record of the apps agrees.
      const apps = await run.pm2List();
      assert.deepEqual(apps.map((a) => a.name).sort(), ['gateway-main', 'gateway-rescue', 'lifeguard']);
      for (const app of apps.filter((a) => a.name.startsWith('gateway-'))) {
        assert.equal(app.pm2_env.env?.[CANARY], undefined, `PM2 app ${app.name} carries ${CANARY}`);
        assert.equal(app.pm2_env[CANARY], undefined, `PM2 app ${app.name} carries ${CANARY}`);
      }
      const rescueApp = apps.find((a) => a.name === 'gateway-rescue')!;
      assert.equal(rescueApp.pm2_env.env?.LIFEGUARD_MAIN_CONFIG_PATH, mainLayout.configPath);
      assert.equal(rescueApp.pid, rescue.pid);
    });

    it('SIGKILL of the main Gateway: journal says down, PM2 restarts it, main is healthy again with a new pid', { timeout: 4 * 60_000 }, async () => {
      requireUp();
      const initial = await run.waitForStatus('both healthy before the kill', bothHealthy, RECOVERY_DEADLINE_MS);
      const oldPid = instanceOf(initial, 'main').pid!;
      const rescuePid = instanceOf(initial, 'rescue').pid!;
      const helpers = await descendantsOf(oldPid);
      const mark = run.journal().length;
      process.kill(oldPid, 'SIGKILL');

      // A probe can lose the kept connection a moment before PM2's exit event lands: a `suspect` line may come first.
      const noticed = await pollUntil('a main down/recovering line in events.jsonl', () => {
        const first = run.journalSince(mark, 'main').find((e) => e.to !== 'suspect');
        return first && (first.to === 'down' || first.to === 'recovering') ? first : undefined;
      }, { timeoutMs: 15_000, intervalMs: 250, describeLast: () => lines(run.journalSince(mark, 'main')) });
      const down = run.journalSince(mark, 'main').find((e) => e.to === 'down');
      if (down) {
        assert.equal(down.classification, 'crashed', `down line: ${JSON.stringify(down)}`);
        assert.deepEqual(noticed, down, `the first main line after the kill: ${lines(run.journalSince(mark, 'main'))}`);
      }
      assert.ok(!isAlive(oldPid), `the killed pid ${oldPid} is still there`);

      const recovered = await run.waitForStatus('main healthy again with a new pid', (s) => {
        const m = instanceOf(s, 'main');
        return m.state === 'healthy' && m.pid !== null && m.pid !== oldPid;
      }, RECOVERY_DEADLINE_MS);
      const entries = run.journalSince(mark, 'main');
      const iRecovering = entries.findIndex((e) => e.to === 'recovering');
      assert.ok(iRecovering !== -1, `no recovering line: ${lines(entries)}`);
      assert.ok(entries.slice(iRecovering).some((e) => e.to === 'healthy'), `no healthy line after recovering: ${lines(entries)}`);
      assert.ok(instanceOf(recovered, 'main').restarts! >= 1);
      await pollUntil(`helpers of the killed Gateway (${helpers.join(', ') || 'none'}) to exit`, () => helpers.every((p) => !isAlive(p)), { timeoutMs: 30_000, intervalMs: 500 });

      // The rescue never noticed.
      const rescue = instanceOf(await run.waitForStatus('rescue healthy', (s) => instanceOf(s, 'rescue').state === 'healthy', 30_000), 'rescue');
      assert.equal(rescue.pid, rescuePid, 'the rescue Gateway was restarted too');
      assert.ok(!run.journalSince(mark, 'rescue').some((e) => e.to === 'down'), `rescue went down: ${lines(run.journalSince(mark, 'rescue'))}`);
    });

    it('SIGSTOP of the main Gateway: classified hung, killed by lifeguard, restarted by PM2, healthy again', { timeout: 4 * 60_000 }, async () => {
      requireUp();
      const initial = await run.waitForStatus('both healthy before the stop', bothHealthy, RECOVERY_DEADLINE_MS);
      const stoppedPid = instanceOf(initial, 'main').pid!;
      const rescuePid = instanceOf(initial, 'rescue').pid!;
      const helpers = await descendantsOf(stoppedPid);
      const mark = run.journal().length;
      process.kill(stoppedPid, 'SIGSTOP');
      try {
        await pollUntil(`pid ${stoppedPid} to show state T (stopped)`, () => processState(stoppedPid) === 'T', { timeoutMs: 5_000, intervalMs: 50 });

        const hung = await pollUntil('main down [hung] in events.jsonl', () =>
          run.journalSince(mark, 'main').find((e) => e.to === 'down' && e.classification === 'hung'),
        { timeoutMs: 60_000, intervalMs: 250, describeLast: () => `${lines(run.journalSince(mark, 'main'))}\n${run.diagnostics()}` });
        // A stopped process is called hung at the first failed probe: there is nothing to wait for.
        assert.match(hung.reason, /the process is stopped \(state T\), not just slow/);

        await run.waitForStatus('main healthy again with a new pid', (s) => {
          const m = instanceOf(s, 'main');
          return m.state === 'healthy' && m.pid !== null && m.pid !== stoppedPid;
        }, RECOVERY_DEADLINE_MS);
      } finally {
        // Never leave a stopped process behind, whatever failed above.
        if (isAlive(stoppedPid) && processState(stoppedPid) === 'T') process.kill(stoppedPid, 'SIGKILL');
      }
      const entries = run.journalSince(mark, 'main');
      const order = entries.map((e) => e.to);
      const iDown = entries.findIndex((e) => e.to === 'down' && e.classification === 'hung');
      const iRecovering = order.indexOf('recovering', iDown);
      const iHealthy = order.indexOf('healthy', iRecovering);
      assert.equal(iDown, 0, `expected healthy → down [hung] at once, without a suspect phase: ${lines(entries)}`);
      assert.ok(iRecovering > iDown, `expected recovering after down: ${lines(entries)}`);
      assert.equal(entries[iRecovering]?.classification, 'hung');
      assert.ok(iHealthy > iRecovering, `expected healthy after recovering: ${lines(entries)}`);

      assert.ok(!isAlive(stoppedPid), `the stopped Gateway ${stoppedPid} is still there (${processState(stoppedPid)})`);
      await pollUntil(`helpers of the stopped Gateway (${helpers.join(', ') || 'none'}) to exit`, () => helpers.every((p) => !isAlive(p)), { timeoutMs: 30_000, intervalMs: 500 });
      const rescue = instanceOf(await run.waitForStatus('rescue healthy', (s) => instanceOf(s, 'rescue').state === 'healthy', 30_000), 'rescue');
      assert.equal(rescue.pid, rescuePid, 'the rescue Gateway was restarted too');
    });

    it('`down` removes the three PM2 apps, stops the idle PM2 daemon and leaves no Gateway process', { timeout: 2 * 60_000 }, async () => {
      requireUp();
      const status = await run.status();
      const gatewayPids = status.instances.map((i) => i.pid).filter((p): p is number => p !== null);
      const helpers = (await Promise.all(gatewayPids.map((pid) => descendantsOf(pid)))).flat();
      const mark = run.journal().length;
      const down = await run.cli(['down'], 60_000);
      assert.equal(down.code, 0, describeResult(down));
      await pollUntil('the Gateways and their helpers to exit', () => [...gatewayPids, ...helpers].every((p) => !isAlive(p)), { timeoutMs: 30_000, intervalMs: 250 });
      const gone = await run.status();
      // Nothing else ran in it, so `down` stopped the PM2 daemon too (`pm2 jlist` would start a new one: not asked).
      for (const i of gone.instances) assert.equal(i.pm2Status, 'unknown', formatStatus(gone));
      const daemon = run.pm2DaemonPid;
      assert.ok(daemon === undefined || !isAlive(daemon), `the idle PM2 daemon ${daemon} still runs after \`down\``);
      // An operator stop, not a crash: PM2 sends it as plain `exit` events, which lifeguard must tell apart.
      const journaled = run.journal().slice(mark);
      assert.deepEqual(journaled.filter((e) => e.to === 'down' && e.classification !== 'stopped'), [], `journal after \`down\`: ${lines(journaled)}`);
      const { leaked } = await run.teardown();
      assert.deepEqual(leaked, [], 'processes survived `pm2 kill`');
      assert.ok(!existsSync(`${run.pm2Home}/pm2.pid`) || !isAlive(Number(readFileSync(`${run.pm2Home}/pm2.pid`, 'utf8'))));
    });
  });
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialSnapshot } from '../../src/detector/machine.js';
import type { DaemonStatus } from '../../src/daemon/status-store.js';
import { buildStatusView, renderStatus } from '../../src/surfaces/status-view.js';
import { formatDuration } from '../../src/core/duration.js';

const settings = { failureThreshold: 3, successThreshold: 2, startupGraceMs: 60_000, crashLoopExits: 5, crashLoopWindowMs: 600_000, maxRestartsPerHour: 4 };
const specs = [{ name: 'main', appName: 'gateway-main' }, { name: 'rescue', appName: 'gateway-rescue' }];
const now = 1_800_000_000_000;

function daemon(updatedAt: number): DaemonStatus {
  const healthy = { ...initialSnapshot(now - 100_000, settings), state: 'healthy' as const, reason: 'probes pass', pid: 42 };
  const down = { ...initialSnapshot(now - 100_000, settings), state: 'down' as const, reason: 'exited with code 78: Invalid config', classification: 'config-invalid' as const };
  return {
    pid: 7, startedAt: now - 200_000, updatedAt,
    instances: [
      { instance: 'main', appName: 'gateway-main', flavour: 'openclaw', port: 18789, configPath: '/c', detector: down, lastProbe: { at: now - 1_000, live: false, ready: false, latencyMs: 3, detail: '/: ECONNREFUSED' } },
      { instance: 'rescue', appName: 'gateway-rescue', flavour: 'openclaw', port: 19789, configPath: '/r', detector: healthy, lastProbe: { at: now - 1_000, live: true, ready: true, latencyMs: 12, detail: 'hello-ok' } },
    ],
  };
}
const apps = [
  { name: 'gateway-main', pid: undefined, status: 'stopped', restarts: 3, uptimeSince: undefined, outLog: undefined, errLog: undefined, port: undefined },
  { name: 'gateway-rescue', pid: 43, status: 'online', restarts: 0, uptimeSince: now - 3_700_000, outLog: undefined, errLog: undefined, port: 19790 },
  { name: 'lifeguard', pid: 7, status: 'online', restarts: 0, uptimeSince: now - 200_000, outLog: undefined, errLog: undefined, port: undefined },
];

describe('status view', () => {
  it('shows state, reason, pid, port, PM2 status, restarts, last probe and uptime per instance', () => {
    const view = buildStatusView(daemon(now - 1_000), apps, now, specs);
    assert.equal(view.supervisor.running, true);
    const [main, rescue] = view.instances;
    assert.equal(main!.state, 'down');
    assert.equal(main!.classification, 'config-invalid');
    assert.equal(main!.pm2Status, 'stopped');
    assert.equal(main!.restarts, 3);
    assert.equal(rescue!.pid, 43);
    assert.equal(rescue!.uptimeMs, 3_700_000);
    assert.equal(rescue!.lastProbe?.latencyMs, 12);
    const text = renderStatus(view);
    assert.match(text, /main: DOWN \[config-invalid\]/);
    assert.match(text, /rescue: HEALTHY/);
    assert.match(text, /uptime 1h 1m/);
  });

  it('says so when the supervisor stopped updating, and still shows the last known state', () => {
    const view = buildStatusView(daemon(now - 120_000), apps, now, specs);
    assert.equal(view.supervisor.running, false);
    assert.match(view.supervisor.note ?? '', /120 s old/);
    assert.equal(view.instances[0]!.state, 'down (stale)');
  });

  it('names the config file in effect, what waits for a restart, the ports that run, and says plainly that nobody is alerted', () => {
    const recorded: DaemonStatus = {
      ...daemon(now - 1_000), alertProviders: [],
      configFile: { file: '/home/u/.lifeguard/lifeguard.json5', pending: [{ section: 'instances', needs: 'gateways' }], pendingFix: 'npx lifeguard down && npx lifeguard up' },
    };
    // The file already says 28789; the main still runs on 18789.
    const view = buildStatusView(recorded, apps, now, [{ ...specs[0]!, port: 28789 }, specs[1]!], '/elsewhere/lifeguard.json5');
    assert.equal(view.configFile, '/home/u/.lifeguard/lifeguard.json5');
    assert.deepEqual(view.configEdit?.pending, ['instances']);
    assert.equal(view.instances[0]!.port, 18789);
    const text = renderStatus(view);
    assert.match(text, /config file {2}\/home\/u\/\.lifeguard\/lifeguard\.json5/);
    assert.match(text, /edited instances: waits for a restart \(npx lifeguard down && npx lifeguard up\)/);
    assert.match(text, /alerts {7}NONE: no alert destination is configured: an outage is recorded, but nobody is told/);
    assert.equal(buildStatusView(undefined, undefined, now, specs, '/x/lifeguard.json5').configFile, '/x/lifeguard.json5', 'without a supervisor: the file this command found');
  });

  it('works without PM2 and without any recorded state', () => {
    const view = buildStatusView(undefined, undefined, now, specs);
    assert.equal(view.instances[0]!.state, 'unknown');
    assert.equal(view.instances[0]!.pm2Status, 'unknown');
    assert.match(view.supervisor.note ?? '', /PM2 daemon not reachable/);
  });

  it('shows the port that runs (PM2, else the supervisor\'s record), not one from an edited config', () => {
    const view = buildStatusView(daemon(now - 1_000), apps, now, [{ name: 'main', appName: 'gateway-main', port: 20000 }, { name: 'rescue', appName: 'gateway-rescue', port: 20000 }]);
    assert.equal(view.instances[0]!.port, 18789, 'main: PM2 does not say, the supervisor ran it on 18789');
    assert.equal(view.instances[1]!.port, 19790, 'rescue: PM2 started it with --port 19790');
    assert.equal(buildStatusView(undefined, undefined, now, specs).instances[0]!.port, null);
  });

  it('formats durations for people', () => {
    assert.deepEqual([45_000, 125_000, 3_700_000, 200_000_000].map(formatDuration), ['45s', '2m 5s', '1h 1m', '2d 7h']);
  });
});

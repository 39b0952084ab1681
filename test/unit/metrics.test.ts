import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createMetrics } from '../../src/surfaces/metrics.js';
import { metricsReading } from '../../src/daemon/tool-surfaces.js';
import { detectorSettings } from '../../src/daemon/world.js';
import { parseConfig } from '../../src/config/load.js';
import { initialSnapshot } from '../../src/detector/machine.js';
import type { DaemonStatus, InstanceStatus } from '../../src/daemon/status-store.js';
import { QUIET_HOST, parseExposition, sampleMetricsSetup, valueOf, type Sample } from '../helpers/exposition.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const stateOf = (samples: readonly Sample[], name: string, gateway: string, label: string) =>
  Object.fromEntries(samples.filter((s) => s.name === name && s.labels.gateway === gateway).map((s) => [s.labels[label], s.value]));

describe('metrics', () => {
  it('has every lifeguard family typed, with the Gateway as `gateway` and no `instance`, `job` or `lifeguard_up`', async () => {
    const metrics = createMetrics(sampleMetricsSetup());
    metrics.observeProbe('main', 0.042, true);
    metrics.observeProbe('main', 1.5, false);
    metrics.countRestart('main');
    metrics.countIncident('main');
    metrics.countDelivery('ops-telegram', 'retried');
    metrics.countDelivery('ops-telegram', 'delivered');
    const { types, samples } = parseExposition(await metrics.render());

    assert.deepEqual(
      [...types].filter(([name]) => name.startsWith('lifeguard_')).sort(),
      [['lifeguard_alert_deliveries_total', 'counter'], ['lifeguard_build_info', 'gauge'], ['lifeguard_config_state', 'gauge'],
        ['lifeguard_gateway_paused', 'gauge'], ['lifeguard_gateway_state', 'gauge'], ['lifeguard_incident_frozen', 'gauge'],
        ['lifeguard_incident_open', 'gauge'], ['lifeguard_incident_rung', 'gauge'], ['lifeguard_incidents_total', 'counter'],
        ['lifeguard_pm2_reachable', 'gauge'], ['lifeguard_probe_latency_seconds', 'histogram'], ['lifeguard_restarts_total', 'counter']],
    );
    for (const sample of samples) {
      assert.ok(!('instance' in sample.labels) && !('job' in sample.labels), `${sample.name} has a label Prometheus owns: ${JSON.stringify(sample.labels)}`);
    }
    assert.equal(valueOf(samples, 'lifeguard_build_info', { version: '0.1.0', flavour: 'openclaw', gateway_version: '2026.9.6' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_count', { gateway: 'main', ok: 'true' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { gateway: 'main', ok: 'true', le: '0.05' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { gateway: 'main', ok: 'false', le: '1' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { gateway: 'main', ok: 'false', le: '+Inf' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_restarts_total', { gateway: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_restarts_total', { gateway: 'rescue' }), 0, 'a series from the start, at 0');
    assert.equal(valueOf(samples, 'lifeguard_incidents_total', { gateway: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_alert_deliveries_total', { provider: 'ops-telegram', status: 'retried' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_alert_deliveries_total', { provider: 'ops-telegram', status: 'failed' }), 0, 'every provider and status from the start, at 0');
    assert.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'process metrics of the supervisor itself');
    assert.equal(types.get('nodejs_eventloop_lag_p99_seconds'), 'gauge');
  });

  it('reads states at each scrape as state sets: exactly one series at 1 per Gateway', async () => {
    let reading = QUIET_HOST;
    const metrics = createMetrics(sampleMetricsSetup(() => reading));
    let { samples } = parseExposition(await metrics.render());
    assert.deepEqual(stateOf(samples, 'lifeguard_gateway_state', 'main', 'state'), { starting: 0, healthy: 1, degraded: 0, suspect: 0, down: 0, recovering: 0 });
    assert.deepEqual(stateOf(samples, 'lifeguard_config_state', 'main', 'state'), { valid: 1, invalid: 0, unknown: 0 });
    assert.deepEqual(stateOf(samples, 'lifeguard_config_state', 'rescue', 'state'), {}, 'the rescue config is not guarded: no series rather than a made-up verdict');
    assert.deepEqual(stateOf(samples, 'lifeguard_incident_rung', 'main', 'rung'), { R0: 0, R1: 0, R2: 0, R3: 0, R4: 0 });
    assert.equal(valueOf(samples, 'lifeguard_incident_open', { gateway: 'main' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_pm2_reachable'), 1);

    reading = {
      gateways: [
        { gateway: 'main', state: 'down', config: 'invalid', incident: { rung: 'R4', frozen: true }, paused: false },
        { gateway: 'rescue', state: 'degraded', config: undefined, incident: undefined, paused: true },
      ],
      pm2Reachable: false,
    };
    ({ samples } = parseExposition(await metrics.render()));
    assert.deepEqual(stateOf(samples, 'lifeguard_gateway_state', 'main', 'state'), { starting: 0, healthy: 0, degraded: 0, suspect: 0, down: 1, recovering: 0 });
    assert.deepEqual(stateOf(samples, 'lifeguard_gateway_state', 'rescue', 'state'), { starting: 0, healthy: 0, degraded: 1, suspect: 0, down: 0, recovering: 0 });
    assert.deepEqual(stateOf(samples, 'lifeguard_config_state', 'main', 'state'), { valid: 0, invalid: 1, unknown: 0 });
    assert.deepEqual(stateOf(samples, 'lifeguard_incident_rung', 'main', 'rung'), { R0: 0, R1: 0, R2: 0, R3: 0, R4: 1 });
    assert.equal(valueOf(samples, 'lifeguard_incident_open', { gateway: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_incident_frozen', { gateway: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_gateway_paused', { gateway: 'rescue' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_gateway_paused', { gateway: 'main' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_pm2_reachable'), 0);
  });

  it('keeps separate registries apart (nothing global)', async () => {
    const lost = createMetrics(sampleMetricsSetup(() => ({ ...QUIET_HOST, pm2Reachable: false })));
    const well = createMetrics(sampleMetricsSetup());
    lost.countRestart('rescue');
    assert.equal(valueOf(parseExposition(await lost.render()).samples, 'lifeguard_pm2_reachable'), 0);
    assert.equal(valueOf(parseExposition(await well.render()).samples, 'lifeguard_restarts_total', { gateway: 'rescue' }), 0);
  });

  it('passes `promtool check metrics` without a warning, the Node process metrics included', { skip: hasPromtool ? false : 'promtool not installed (Debian package prometheus)' }, async () => {
    const metrics = createMetrics(sampleMetricsSetup());
    metrics.observeProbe('main', 0.01, true);
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: await metrics.render(), encoding: 'utf8' });
    assert.equal(`${checked.stdout}${checked.stderr}`.trim(), '');
    assert.equal(checked.status, 0);
  });
});

describe('metrics reading of the status document', () => {
  const SETTINGS = detectorSettings(parseConfig({}, { source: undefined, home: '/h', userHome: '/u', env: {} }));
  const instance = (over: Partial<InstanceStatus>): InstanceStatus => ({
    instance: 'main', appName: 'gateway-main', flavour: 'openclaw', port: 18789, configPath: '/c.json', lastProbe: undefined,
    detector: { ...initialSnapshot(0, SETTINGS), state: 'healthy' },
    ...over,
  });
  const status = (instances: InstanceStatus[]): DaemonStatus => ({ pid: 1, startedAt: 0, updatedAt: 0, instances });

  it('maps the guard verdict, the open incident and a pause of each Gateway', () => {
    const reading = metricsReading(status([
      instance({ config: { valid: false, detail: 'bad', at: 0 }, incident: { id: 'main-1', rung: 'R4', frozen: true, problem: 'down', summary: '' }, pausedUntil: 10 }),
      instance({ instance: 'rescue', appName: 'gateway-rescue' }),
    ]), true);
    assert.deepEqual(reading, {
      gateways: [
        { gateway: 'main', state: 'healthy', config: 'invalid', incident: { rung: 'R4', frozen: true }, paused: true },
        { gateway: 'rescue', state: 'healthy', config: undefined, incident: undefined, paused: false },
      ],
      pm2Reachable: true,
    });
    assert.equal(metricsReading(status([instance({ config: { valid: 'unknown', detail: '', at: 0 } })]), false).gateways[0]!.config, 'unknown');
  });
});

/**
 * A fleet end to end: a real Prometheus (Debian `prometheus`) scrapes two lifeguard hosts with the shipped
 * rules, and a real Alertmanager (`prometheus-alertmanager`) routes what fires with the shipped example
 * routing to a webhook receiver on 127.0.0.1.
 *
 * Host 1 is real: the OpenClaw Gateways under a private PM2 with lifeguard, its endpoint behind a bearer
 * token that lifeguard reads from `$LIFEGUARD_HOME/.env` and Prometheus from a `credentials_file`. Host 2 is
 * a fake exposition served by this test (lifeguard's own metrics module, all healthy): two real Gateway
 * pairs are too heavy for a 2-core machine, and what the rules see of a host is only its exposition.
 *
 * The rules are the shipped file with every `for:` cut to a few seconds, and Prometheus scrapes and
 * evaluates every second: with the shipped minutes the test would take a quarter of an hour, and the
 * durations themselves are covered by the promtool unit tests (deploy/prometheus/lifeguard-rules.test.yml).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../src/surfaces/metrics.js';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { sampleMetricsSetup } from '../helpers/exposition.js';
import { REPO_ROOT, describeResult, pollUntil } from '../helpers/harness.js';

const UP_DEADLINE_MS = 180_000;
/** Every `for:` of the shipped rules becomes this (see the header). */
const SHORT_FOR = '5s';
const PAGE_DEADLINE_MS = 90_000;
const TOOLS = ['prometheus', 'prometheus-alertmanager'];
const missing = TOOLS.filter((tool) => spawnSync(tool, ['--version']).status !== 0);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  output: string;
}

function startDaemon(name: string, args: readonly string[]): Daemon {
  const child = spawn(name, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon: Daemon = { name, child, output: '' };
  const keep = (chunk: Buffer) => (daemon.output = `${daemon.output}${chunk.toString('utf8')}`.slice(-8_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return daemon;
}

async function stopDaemon(daemon: Daemon | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => daemon.child.once('exit', () => resolve()));
  daemon.child.kill('SIGTERM');
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

interface AlertmanagerAlert {
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

describe('a fleet: Prometheus and Alertmanager over two lifeguard hosts', { timeout: 12 * 60_000, skip: missing.length ? `${missing.join(', ')} not installed (Debian packages prometheus, prometheus-alertmanager)` : false }, () => {
  let lg: AlertedRun;
  let prometheus: Daemon | undefined;
  let alertmanager: Daemon | undefined;
  let fakeHost: Server | undefined;
  let ready = false;
  const requireReady = () => assert.ok(ready, 'the fleet did not come up (see the first failure)');
  const ports = { lifeguard: 0, fake: 0, prometheus: 0, alertmanager: 0 };
  const token = randomBytes(32).toString('hex');
  const target = (port: number) => `127.0.0.1:${port}`;

  const query = async (promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const answer = await fetch(`http://${target(ports.prometheus)}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await answer.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    assert.equal(body.status, 'success', `${promql}: ${body.error ?? ''}`);
    return body.data!.result;
  };
  /** Alerts Alertmanager delivered to `receiver` (the shipped example's receivers, pointed at the test's). */
  const pages = (receiver: 'pager' | 'chat') =>
    lg.receiver.requestsTo(`/alertmanager/${receiver}`).flatMap((r) => ((r.json as { alerts?: AlertmanagerAlert[] }).alerts ?? []).map((alert) => ({ at: r.at, alert })));
  const diagnostics = () => `--- prometheus\n${prometheus?.output ?? ''}\n--- alertmanager\n${alertmanager?.output ?? ''}\n--- pages\n${JSON.stringify(pages('pager').map((p) => p.alert.labels))}\n${lg.run.diagnostics()}`;

  before(async () => {
    ports.lifeguard = await freePort();
    lg = await startAlertedRun({ flavour: 'openclaw', config: [`  http: { port: ${ports.lifeguard}, token: '\${LIFEGUARD_HTTP_TOKEN}' },`] });
    writeFileSync(join(lg.run.lifeguardHome, '.env'), `LIFEGUARD_HTTP_TOKEN=${token}\n`, { mode: 0o600 });
  });

  after(async () => {
    await stopDaemon(prometheus);
    await stopDaemon(alertmanager);
    fakeHost?.closeAllConnections();
    await new Promise<void>((resolve) => (fakeHost?.listening ? fakeHost.close(() => resolve()) : resolve()));
    await lg?.teardown();
  });

  it('comes up: a real host and a fake one, scraped by Prometheus with the shipped rules, routed by Alertmanager', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);

    const fakeMetrics = createMetrics(sampleMetricsSetup());
    fakeHost = createHttpServer((req, res) => {
      void fakeMetrics.render().then((body) => res.writeHead(200, { 'Content-Type': fakeMetrics.contentType }).end(body));
    });
    await new Promise<void>((resolve) => fakeHost!.listen(0, '127.0.0.1', resolve));
    ports.fake = (fakeHost.address() as AddressInfo).port;

    const dir = join(lg.run.dir, 'monitoring');
    mkdirSync(join(dir, 'prometheus-data'), { recursive: true });
    mkdirSync(join(dir, 'alertmanager-data'), { recursive: true });
    writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
    const shippedRules = readFileSync(join(REPO_ROOT, 'deploy', 'prometheus', 'lifeguard-rules.yml'), 'utf8');
    const rules = shippedRules.replace(/^(\s+for:) \d+[smh]$/gm, `$1 ${SHORT_FOR}`);
    assert.equal(rules.match(new RegExp(`for: ${SHORT_FOR}$`, 'gm'))?.length, shippedRules.match(/^\s+for: /gm)?.length, 'every for: shortened');
    writeFileSync(join(dir, 'rules.yml'), rules);
    ports.prometheus = await freePort();
    ports.alertmanager = await freePort();
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      `rule_files: ['${join(dir, 'rules.yml')}']`,
      `alerting: { alertmanagers: [{ static_configs: [{ targets: ['${target(ports.alertmanager)}'] }] }] }`,
      'scrape_configs:',
      '  - job_name: lifeguard',
      `    authorization: { type: Bearer, credentials_file: '${join(dir, 'token')}' }`,
      `    static_configs: [{ targets: ['${target(ports.lifeguard)}', '${target(ports.fake)}'] }]`,
      '',
    ].join('\n'));
    // The shipped routing, with its receivers pointed at the test's and its waits cut to a second.
    const shippedRouting = readFileSync(join(REPO_ROOT, 'deploy', 'alertmanager', 'alertmanager.example.yml'), 'utf8');
    writeFileSync(join(dir, 'alertmanager.yml'), shippedRouting
      .replace('https://pager.example/hooks/lifeguard', lg.receiver.url('/alertmanager/pager'))
      .replace('https://chat.example/hooks/lifeguard', lg.receiver.url('/alertmanager/chat'))
      .replace('group_wait: 30s', 'group_wait: 1s')
      .replace('group_interval: 5m', 'group_interval: 1s'));

    alertmanager = startDaemon('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=${target(ports.alertmanager)}`, '--cluster.listen-address=', '--log.level=warn',
    ]);
    prometheus = startDaemon('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=${target(ports.prometheus)}`, '--log.level=warn',
    ]);
    for (const [name, port] of [['alertmanager', ports.alertmanager], ['prometheus', ports.prometheus]] as const) {
      await pollUntil(`${name} ready`, async () => (await fetch(`http://${target(port)}/-/ready`)).ok, { timeoutMs: 60_000, intervalMs: 250, describeLast: diagnostics });
    }

    // Both hosts scraped (the real one with the token), no series renamed by Prometheus.
    const up = await pollUntil('both targets up', async () => {
      const result = await query('up{job="lifeguard"} == 1');
      return result.length === 2 ? result : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, describeLast: diagnostics });
    assert.deepEqual(up.map((s) => s.metric.instance).sort(), [target(ports.lifeguard), target(ports.fake)].sort());
    const build = await query(`lifeguard_build_info{instance="${target(ports.lifeguard)}"}`);
    assert.deepEqual(build.map((s) => [s.metric.flavour, s.metric.gateway_version]), [['openclaw', '2026.9.6']]);
    assert.deepEqual(await query('{job="lifeguard", exported_instance!=""}'), [], 'no lifeguard label collides with a Prometheus target label');
    assert.deepEqual(await query('{job="lifeguard", exported_job!=""}'), []);
    const serving = await query(`lifeguard_gateway_state{instance="${target(ports.lifeguard)}", state="healthy"} == 1`);
    assert.deepEqual(serving.map((s) => s.metric.gateway).sort(), ['main', 'rescue']);
    // Until the first scrape, `absent(up)` is true: on a busy machine its short `for:` can run out first,
    // and the alert then fires until the next evaluation after the scrape. A quiet fleet settles to nothing.
    let firing: unknown[] = [];
    await pollUntil('a quiet fleet to fire nothing', async () => {
      firing = await query('ALERTS{alertstate="firing"}');
      return firing.length === 0 ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 500, describeLast: () => JSON.stringify(firing) });
    ready = true;
  });

  it('the shipped dashboard\'s queries all run on the real Prometheus', async () => {
    requireReady();
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'lifeguard-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) await query(expr.replaceAll('$instance', '.*'));
    }
    assert.ok((await query('sum(lifeguard_gateway_state == 1)'))[0]!.value[1] === '4', 'two hosts, two Gateways each');
  });

  it('pages through Alertmanager when the real host\'s main stays down', { timeout: 3 * 60_000 }, async () => {
    requireReady();
    const stoppedAt = Date.now();
    const stop = await lg.run.pm2(['stop', 'gateway-main']);
    assert.equal(stop.code, 0, describeResult(stop));
    const page = await pollUntil('a LifeguardGatewayDown page for the main', () => pages('pager').find((p) =>
      p.alert.status === 'firing' && p.alert.labels.alertname === 'LifeguardGatewayDown' && p.alert.labels.instance === target(ports.lifeguard)), { timeoutMs: PAGE_DEADLINE_MS, intervalMs: 100, describeLast: diagnostics });
    assert.equal(page.alert.labels.gateway, 'main');
    assert.equal(page.alert.labels.severity, 'critical');
    assert.equal(page.alert.annotations.runbook_url, 'docs/fleet.md#lifeguardgatewaydown');
    assert.equal(page.alert.annotations.summary, `The main Gateway on ${target(ports.lifeguard)} has not been serving for 5 minutes.`);
    process.stdout.write(`# main stopped -> Alertmanager page received: ${((page.at - stoppedAt) / 1000).toFixed(1)} s (rules' for: ${SHORT_FOR}, scrape and evaluation every 1 s, group_wait 1 s)\n`);
  });

  it('pages when a host\'s lifeguard disappears, and only for that host', { timeout: 3 * 60_000 }, async () => {
    requireReady();
    const goneAt = Date.now();
    await new Promise<void>((resolve) => {
      fakeHost!.close(() => resolve());
      fakeHost!.closeAllConnections();
    });
    const page = await pollUntil('a LifeguardUnreachable page for the fake host', () => pages('pager').find((p) =>
      p.alert.status === 'firing' && p.alert.labels.alertname === 'LifeguardUnreachable'), { timeoutMs: PAGE_DEADLINE_MS, intervalMs: 100, describeLast: diagnostics });
    assert.equal(page.alert.labels.instance, target(ports.fake));
    assert.equal(page.alert.annotations.runbook_url, 'docs/fleet.md#lifeguardunreachable');
    process.stdout.write(`# fake host gone -> Alertmanager page received: ${((page.at - goneAt) / 1000).toFixed(1)} s\n`);
    assert.deepEqual(pages('pager').filter((p) => p.alert.labels.alertname === 'LifeguardUnreachable').map((p) => p.alert.labels.instance).filter((i) => i !== target(ports.fake)), [],
      'the real host, still scraped, is not reported unreachable');
  });
});

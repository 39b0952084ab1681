import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { UserError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { startStatusServer, type StatusServer } from '../../src/surfaces/http.js';
import { createMetrics, type LifeguardMetrics } from '../../src/surfaces/metrics.js';
import { buildStatusView } from '../../src/surfaces/status-view.js';

const silent = createLogger({ level: 'silent' });

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Bytes exactly as a client gets them, to see what the server really puts on the wire. */
function raw(port: number, text: string): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ text: received, closedAfterMs: Date.now() - started }));
  });
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is HELP, TYPE or a sample of a family
 * whose TYPE came first, with well-formed labels and a numeric value. Throws on anything else.
 */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        assert.match(comment[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const [, name, labelText, valueText] = sample;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(name!) || ['histogram', 'summary'].includes(types.get(family) ?? ''), `no TYPE before ${name}`);
    const labels: Record<string, string> = {};
    if (labelText) {
      const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (const match of labelText.matchAll(labelPattern)) {
        labels[match[1]!] = match[2]!;
        consumed += match[0].length;
      }
      assert.equal(consumed, labelText.length, `malformed labels: ${line}`);
    }
    // Prometheus reads values with Go's ParseFloat, which takes NaN in any case (prom-client writes "Nan").
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(valueText!), `not a number: ${line}`);
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}

const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('status endpoint', () => {
  let server: StatusServer;
  let metrics: LifeguardMetrics;
  let health = { ok: true, detail: 'PM2 reachable, status written 1 s ago' };
  let failStatus = false;
  const view = buildStatusView(undefined, undefined, Date.parse('2026-01-01T00:00:00Z'), [
    { name: 'main', appName: 'gateway-main', port: 18789 },
    { name: 'rescue', appName: 'gateway-rescue', port: 19789 },
  ]);

  before(async () => {
    metrics = createMetrics();
    server = await startStatusServer({
      host: '127.0.0.1',
      port: 0,
      log: silent,
      health: () => health,
      status: async () => {
        if (failStatus) throw new Error('status.json unreadable');
        return view;
      },
      metrics: async () => ({ body: await metrics.render(), contentType: metrics.contentType }),
    });
  });
  after(() => server.close());

  it('answers /healthz 200 while lifeguard is well and 503 with the reason when not, never cached', async () => {
    health = { ok: true, detail: 'PM2 reachable' };
    const well = await send(server.port, { path: '/healthz' });
    assert.equal(well.status, 200);
    assert.equal(well.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(well.headers['cache-control'], 'no-store');
    assert.deepEqual(JSON.parse(well.body), { ok: true, detail: 'PM2 reachable' });

    health = { ok: false, detail: 'PM2 daemon not answering for 25s: connect ECONNREFUSED' };
    const sick = await send(server.port, { path: '/healthz' });
    assert.equal(sick.status, 503);
    assert.deepEqual(JSON.parse(sick.body), { ok: false, detail: 'PM2 daemon not answering for 25s: connect ECONNREFUSED' });
    health = { ok: true, detail: 'PM2 reachable' };
  });

  it('serves /status byte for byte as `lifeguard status --json` prints it, a query string notwithstanding', async () => {
    const answer = await send(server.port, { path: '/status?pretty=1' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, `${JSON.stringify(view, null, 2)}\n`);
  });

  it('answers 500 when the status cannot be built, without leaking the error, and keeps serving', async () => {
    failStatus = true;
    const broken = await send(server.port, { path: '/status' });
    failStatus = false;
    assert.equal(broken.status, 500);
    assert.doesNotMatch(broken.body, /status\.json/);
    assert.equal((await send(server.port, { path: '/status' })).status, 200);
  });

  it('answers HEAD with the GET headers and not one byte of body', async () => {
    const get = await send(server.port, { path: '/status' });
    const head = await raw(server.port, 'HEAD /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const [headers, body] = head.text.split('\r\n\r\n');
    assert.match(headers!, /^HTTP\/1\.1 200 /);
    assert.match(headers!, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(get.body)}\r\n`, 'i'));
    assert.equal(body, '');
  });

  it('serves /metrics in the Prometheus text format, with every lifeguard family typed and labelled', async () => {
    metrics.setState('main', 'healthy');
    metrics.setState('main', 'down');
    metrics.observeProbe('main', 0.042, true);
    metrics.observeProbe('main', 1.5, false);
    metrics.countRestart('main');
    metrics.countIncident('main');
    metrics.setIncidentOpen('main', true);
    metrics.countDelivery('ops-telegram', 'retried');
    metrics.countDelivery('ops-telegram', 'delivered');
    metrics.setConfigValid('main', false);
    metrics.setConfigValid('rescue', 'unknown');
    metrics.setPm2Reachable(true);

    const answer = await send(server.port, { path: '/metrics' });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(answer.headers['cache-control'], 'no-store');
    const { types, samples } = parseExposition(answer.body);

    assert.deepEqual(
      ['lifeguard_instance_state', 'lifeguard_probe_latency_seconds', 'lifeguard_restarts_total', 'lifeguard_incidents_total', 'lifeguard_incident_open',
        'lifeguard_alert_deliveries_total', 'lifeguard_config_valid', 'lifeguard_pm2_reachable', 'lifeguard_up'].map((name) => [name, types.get(name)]),
      [['lifeguard_instance_state', 'gauge'], ['lifeguard_probe_latency_seconds', 'histogram'], ['lifeguard_restarts_total', 'counter'],
        ['lifeguard_incidents_total', 'counter'], ['lifeguard_incident_open', 'gauge'], ['lifeguard_alert_deliveries_total', 'counter'],
        ['lifeguard_config_valid', 'gauge'], ['lifeguard_pm2_reachable', 'gauge'], ['lifeguard_up', 'gauge']],
    );
    const mainStates = samples.filter((s) => s.name === 'lifeguard_instance_state' && s.labels.instance === 'main');
    assert.deepEqual(Object.fromEntries(mainStates.map((s) => [s.labels.state, s.value])), { starting: 0, healthy: 0, degraded: 0, suspect: 0, down: 1, recovering: 0 });
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_count', { instance: 'main', ok: 'true' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { instance: 'main', ok: 'true', le: '0.05' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { instance: 'main', ok: 'false', le: '1' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_probe_latency_seconds_bucket', { instance: 'main', ok: 'false', le: '+Inf' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_restarts_total', { instance: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_restarts_total', { instance: 'rescue' }), 0, 'a series from the start, at 0');
    assert.equal(valueOf(samples, 'lifeguard_incidents_total', { instance: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_incident_open', { instance: 'main' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_incident_open', { instance: 'rescue' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_alert_deliveries_total', { provider: 'ops-telegram', status: 'retried' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_alert_deliveries_total', { provider: 'ops-telegram', status: 'delivered' }), 1);
    assert.equal(valueOf(samples, 'lifeguard_config_valid', { instance: 'main' }), 0);
    assert.equal(valueOf(samples, 'lifeguard_config_valid', { instance: 'rescue' }), -1);
    assert.equal(valueOf(samples, 'lifeguard_pm2_reachable'), 1);
    assert.equal(valueOf(samples, 'lifeguard_up'), 1);
    assert.equal(types.get('process_cpu_user_seconds_total'), 'counter', 'process metrics of the supervisor itself');
    assert.equal(types.get('nodejs_eventloop_lag_p99_seconds'), 'gauge');
  });

  it('keeps metrics of separate registries apart (nothing global)', async () => {
    const other = createMetrics();
    other.setPm2Reachable(false);
    metrics.setPm2Reachable(true);
    assert.equal(valueOf(parseExposition(await other.render()).samples, 'lifeguard_pm2_reachable'), 0);
    assert.equal(valueOf(parseExposition(await metrics.render()).samples, 'lifeguard_pm2_reachable'), 1);
  });

  it('answers 404 for any other path, as JSON', async () => {
    for (const path of ['/', '/status/extra', '/metricsx', '/HEALTHZ']) {
      const answer = await send(server.port, { path });
      assert.equal(answer.status, 404, path);
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    }
  });

  it('answers 405 with Allow: GET, HEAD to any other method', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const answer = await send(server.port, { method, path: '/status' });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.allow, 'GET, HEAD');
    }
  });

  it('refuses a request with a body (413), a URL over 2 KB (414) and headers over 8 KB (431)', async () => {
    assert.equal((await send(server.port, { path: '/status', headers: { 'content-length': '5' }, body: 'hello' })).status, 413);
    const chunked = await raw(server.port, 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.match(chunked.text, /^HTTP\/1\.1 413 /);
    assert.equal((await send(server.port, { path: `/status?${'a'.repeat(2100)}` })).status, 414);
    assert.equal((await send(server.port, { path: '/status', headers: { 'x-padding': 'a'.repeat(9000) } })).status, 431);
    assert.equal((await send(server.port, { path: '/healthz' })).status, 200, 'still serving');
  });

  it('answers garbage with 400 and goes on serving', async () => {
    const answer = await raw(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(answer.text, /^HTTP\/1\.1 400 /);
    assert.equal((await send(server.port, { path: '/healthz' })).status, 200);
  });

  it('refuses requests addressed to another host name (a web page through DNS rebinding)', async () => {
    assert.equal((await send(server.port, { path: '/status', headers: { host: 'attacker.example:80' } })).status, 421);
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`]) {
      assert.equal((await send(server.port, { path: '/healthz', headers: { host } })).status, 200, host);
    }
  });

  it('drops a client that sends its headers too slowly (slowloris) within a few seconds', async () => {
    const slow = await raw(server.port, 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    assert.match(slow.text, /^HTTP\/1\.1 408 /);
    assert.ok(slow.closedAfterMs < 5_000, `held ${slow.closedAfterMs} ms`);
  });
});

describe('status endpoint binding', () => {
  const options = { port: 0, log: silent, status: async () => ({}), metrics: async () => ({ body: '', contentType: 'text/plain' }), health: () => ({ ok: true, detail: '' }) };

  it('refuses to listen on anything but loopback, with a message that says why', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '']) {
      await assert.rejects(startStatusServer({ ...options, host }), (error: unknown) => {
        assert.ok(error instanceof UserError, host);
        assert.match(error.message, /loopback only/);
        return true;
      });
    }
  });

  it('holds only the loopback address it was given, not the port on every interface', async () => {
    const server = await startStatusServer({ ...options, host: '127.0.0.1' });
    try {
      // A listener on 0.0.0.0 (or ::) would also own 127.0.0.2 at this port, and this bind would fail.
      const neighbour = createServer();
      await new Promise<void>((resolve, reject) => {
        neighbour.once('error', reject);
        neighbour.listen(server.port, '127.0.0.2', resolve);
      });
      await new Promise<void>((resolve) => neighbour.close(() => resolve()));
    } finally {
      await server.close();
    }
  });

  it('says clearly when the port is taken', async () => {
    const first = await startStatusServer({ ...options, host: '127.0.0.1' });
    try {
      await assert.rejects(startStatusServer({ ...options, host: '127.0.0.1', port: first.port }), /port is in use/);
    } finally {
      await first.close();
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { UserError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { startStatusServer, type StatusServer } from '../../src/surfaces/http.js';
import { createMetrics, type LifeguardMetrics } from '../../src/surfaces/metrics.js';
import { buildStatusView } from '../../src/surfaces/status-view.js';
import { parseExposition, sampleMetricsSetup, valueOf } from '../helpers/exposition.js';
import { parseConfig } from '../../src/config/load.js';
import { resolveSecret } from '../../src/config/secret-ref.js';

const silent = createLogger({ level: 'silent' });

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, ...(options.from ? { localAddress: options.from } : {}), method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {} }, (res) => {
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
    metrics = createMetrics(sampleMetricsSetup());
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

  it('serves /metrics in the Prometheus text format, never cached', async () => {
    metrics.countRestart('main');
    const answer = await send(server.port, { path: '/metrics' });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.equal(valueOf(parseExposition(answer.body).samples, 'lifeguard_restarts_total', { gateway: 'main' }), 1);
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

  it('refuses to listen on anything but loopback without a token, with a message that says why', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '']) {
      await assert.rejects(startStatusServer({ ...options, host }), (error: unknown) => {
        assert.ok(error instanceof UserError, host);
        assert.match(error.message, /only with a bearer token \(http\.token/);
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

describe('status endpoint with a bearer token', () => {
  const TOKEN = 'f3a9c1d27e5b48a6b0c94e1f2d3a5b6c7d8e9f0a1b2c3d4e';
  let server: StatusServer;
  before(async () => {
    const metrics = createMetrics(sampleMetricsSetup());
    server = await startStatusServer({
      host: '127.0.0.1', port: 0, token: TOKEN, log: silent, health: () => ({ ok: true, detail: 'well' }), status: async () => ({}),
      metrics: async () => ({ body: await metrics.render(), contentType: metrics.contentType }),
    });
  });
  after(() => server.close());

  it('answers 401 with WWW-Authenticate to a request without the exact token, on every path', async () => {
    const wrong = [undefined, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, TOKEN, 'Bearer '];
    for (const path of ['/healthz', '/status', '/metrics', '/nope']) {
      for (const authorization of wrong) {
        const answer = await send(server.port, { path, headers: authorization === undefined ? {} : { authorization } });
        assert.equal(answer.status, 401, `${path} with ${String(authorization)}`);
        assert.equal(answer.headers['www-authenticate'], 'Bearer realm="lifeguard"');
        assert.ok(!answer.body.includes(TOKEN.slice(0, 8)), 'the token is never echoed');
      }
    }
  });

  it('serves a request with the token, addressed by whatever name the scraper uses (a LAN or Tailscale name)', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, host: 'lifeguard-host.tailnet.ts.net:9464' };
    assert.equal((await send(server.port, { path: '/healthz', headers })).status, 200);
    const metrics = await send(server.port, { path: '/metrics', headers });
    assert.equal(metrics.status, 200);
    assert.equal(valueOf(parseExposition(metrics.body).samples, 'lifeguard_pm2_reachable'), 1);
  });
});

describe('status endpoint connection cap', () => {
  let server: StatusServer;
  const sockets: Socket[] = [];
  before(async () => {
    server = await startStatusServer({
      host: '127.0.0.1', port: 0, log: silent, health: () => ({ ok: true, detail: 'well' }), status: async () => ({}),
      metrics: async () => ({ body: '', contentType: 'text/plain' }),
    });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await server.close();
  });

  /** Opens `count` connections from `from` that send nothing, or a request line and never the end of the headers. */
  async function hog(count: number, from: string, partial: boolean): Promise<Array<{ socket: Socket; closed: boolean }>> {
    const held = await Promise.all(Array.from({ length: count }, () => new Promise<{ socket: Socket; closed: boolean }>((resolve, reject) => {
      const socket = connect({ port: server.port, host: '127.0.0.1', localAddress: from }, () => {
        if (partial) socket.write('GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        resolve(entry);
      });
      const entry = { socket, closed: false };
      socket.on('close', () => (entry.closed = true));
      socket.on('error', () => {});
      socket.once('error', reject);
      sockets.push(socket);
    })));
    // Let the server see them all.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return held;
  }

  it('answers /healthz while one local process holds more connections than the whole cap, idle or mid-headers', async () => {
    await hog(40, '127.0.0.1', false);
    await hog(40, '127.0.0.1', true);
    for (let i = 0; i < 5; i += 1) assert.equal((await send(server.port, { path: '/healthz' })).status, 200);
  });

  it('closes only the hog\'s own connections when it exceeds its share, never another client\'s', async () => {
    const other = await hog(3, '127.0.0.3', false);
    const hogged = await hog(30, '127.0.0.2', true);
    assert.deepEqual(other.map((c) => c.closed), [false, false, false], 'the other client keeps its connections');
    assert.equal(hogged.filter((c) => !c.closed).length, 8, 'the hog keeps its share of 8, its newest');
    assert.deepEqual(hogged.slice(-8).map((c) => c.closed), Array(8).fill(false));
    assert.equal((await send(server.port, { path: '/healthz', from: '127.0.0.2' })).status, 200, 'and the hog itself is still answered');
  });
});

describe('http settings', () => {
  const context = { source: '/etc/lifeguard/lifeguard.json5', home: '/home/u/.lifeguard', userHome: '/home/u', env: {} };
  const refusal = (http: unknown) => {
    try {
      parseConfig({ http }, context);
    } catch (error) {
      assert.ok(error instanceof UserError);
      return error.message;
    }
    return assert.fail(`accepted ${JSON.stringify(http)}`);
  };

  it('takes loopback without a token, and any IP address with one (a literal or ${VAR})', () => {
    assert.equal(parseConfig({ http: { port: 9464 } }, context).http.host, '127.0.0.1');
    assert.equal(parseConfig({ http: { port: 9464, host: '::1' } }, context).http.token, undefined);
    assert.equal(parseConfig({ http: { port: 9464, host: '100.101.102.103', token: '${LIFEGUARD_HTTP_TOKEN}' } }, context).http.host, '100.101.102.103');
    assert.equal(parseConfig({ http: { port: 9464, host: '0.0.0.0', token: 'a'.repeat(32) } }, context).http.token, 'a'.repeat(32));
  });

  it('refuses a network address without a token, a host name, and a short or spaced token, saying how to fix it', () => {
    assert.match(refusal({ port: 9464, host: '0.0.0.0' }), /http\.token: is required when http\.host is not a loopback address \(it is "0\.0\.0\.0"\)/);
    assert.match(refusal({ port: 9464, host: 'lifeguard.example' }), /http\.host: must be an IP address/);
    assert.match(refusal({ port: 9464, token: 'short' }), /http\.token: must be at least 32 printable characters/);
    assert.match(refusal({ port: 9464, token: `${'a'.repeat(20)} ${'b'.repeat(20)}` }), /http\.token: must be at least 32/);
  });

  it('reads ${VAR} from the variables given, and refuses an unset or empty one', () => {
    assert.equal(resolveSecret('http.token', '${T}', { T: 'secret-value' }, 'in .env'), 'secret-value');
    assert.equal(resolveSecret('http.token', 'literal-token', {}, 'in .env'), 'literal-token');
    assert.throws(() => resolveSecret('http.token', '${T}', {}, 'looked up in /h/.env'), /http\.token is \$\{T\}, but T is not set \(looked up in \/h\/\.env\)/);
    assert.throws(() => resolveSecret('http.token', '${T}', { T: '' }, 'in .env'), /T is not set/);
  });
});

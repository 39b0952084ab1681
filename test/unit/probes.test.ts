import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { GatewaySession, REHANDSHAKE_EVERY_MS, probeGatewayWs } from '../../src/probes/gateway-ws.js';
import { probeHttp } from '../../src/probes/http.js';
import { startFakeGateway, type FakeBehaviour, type FakeGateway } from '../helpers/fake-gateway.js';

const TOKEN = 'secret-token-0123456789';

describe('WebSocket protocol probe', () => {
  let fake: FakeGateway;
  before(async () => {
    fake = await startFakeGateway(TOKEN);
  });
  after(() => fake.close());

  const probe = (token = TOKEN, timeoutMs = 1_000) =>
    probeGatewayWs({ url: `ws://127.0.0.1:${fake.port}`, token, timeoutMs, clientVersion: 'test' });

  it('passes a Gateway that completes the handshake and answers health, and reports what it said', async () => {
    fake.behaviour = 'healthy';
    const result = await probe();
    assert.equal(result.ok, true, result.detail);
    assert.equal(result.protocol, 4);
    assert.equal(result.serverVersion, 'fake');
    assert.equal(fake.tokensSeen.at(-1), TOKEN);
  });

  const failures: Array<[FakeBehaviour, RegExp]> = [
    ['no-challenge', /no connect\.challenge within/],
    ['garbage', /garbage frame/],
    ['binary', /binary frame/],
    ['oversized', /frame larger than 2097152 bytes/],
    ['wrong-protocol', /without a valid hello-ok/],
    ['refuse-token', /connect refused: INVALID_REQUEST unauthorized/],
    ['health-error', /health RPC failed: UNAVAILABLE gateway starting/],
    ['silent-after-connect', /no connect reply within/],
  ];
  for (const [behaviour, expected] of failures) {
    it(`fails, without throwing, on ${behaviour}`, async () => {
      fake.behaviour = behaviour;
      const result = await probe();
      assert.equal(result.ok, false);
      assert.match(result.detail, expected);
      assert.ok(result.latencyMs < 2_000);
    });
  }

  it('never repeats the token in its detail, even when the Gateway echoes it', async () => {
    fake.behaviour = 'refuse-token';
    const result = await probe();
    assert.equal(result.ok, false);
    assert.doesNotMatch(result.detail, new RegExp(TOKEN));
    assert.match(result.detail, /\[redacted\]/);
  });

  it('calls a port where nobody listens a failure (ECONNREFUSED)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await probeGatewayWs({ url: `ws://127.0.0.1:${port}`, token: TOKEN, timeoutMs: 1_000, clientVersion: 'test' });
    assert.equal(result.ok, false);
    assert.match(result.detail, /ECONNREFUSED/);
  });

  it('times out on a listener that accepts TCP but never speaks (a SIGSTOPped Gateway)', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const result = await probeGatewayWs({ url: `ws://127.0.0.1:${port}`, token: TOKEN, timeoutMs: 300, clientVersion: 'test' });
      assert.equal(result.ok, false);
      assert.match(result.detail, /no WebSocket upgrade within 300 ms/);
    } finally {
      server.close();
    }
  });
});

describe('kept Gateway session', () => {
  let fake: FakeGateway;
  before(async () => {
    fake = await startFakeGateway(TOKEN);
  });
  after(() => fake.close());

  it('handshakes once, then only asks health on the open connection', async () => {
    fake.behaviour = 'healthy';
    const session = new GatewaySession(`ws://127.0.0.1:${fake.port}`, 'test');
    const before = fake.tokensSeen.length;
    try {
      const results = [await session.probe(TOKEN, 1_000), await session.probe(TOKEN, 1_000), await session.probe(TOKEN, 1_000)];
      assert.deepEqual(results.map((r) => [r.ok, r.handshake]), [[true, true], [true, false], [true, false]]);
      assert.equal(fake.tokensSeen.length - before, 1, 'one connect for three probes');
    } finally {
      session.close();
    }
  });

  it('fails when the open connection stops answering health, and handshakes anew next time', async () => {
    fake.behaviour = 'healthy';
    const session = new GatewaySession(`ws://127.0.0.1:${fake.port}`, 'test');
    try {
      assert.equal((await session.probe(TOKEN, 1_000)).ok, true);
      fake.behaviour = 'health-error';
      const failed = await session.probe(TOKEN, 1_000);
      assert.equal(failed.ok, false);
      assert.match(failed.detail, /health RPC failed/);
      fake.behaviour = 'healthy';
      const again = await session.probe(TOKEN, 1_000);
      assert.deepEqual([again.ok, again.handshake], [true, true]);
      fake.behaviour = 'frozen';
      const frozen = await session.probe(TOKEN, 300);
      assert.equal(frozen.ok, false);
      assert.match(frozen.detail, /no health reply within 300 ms/);
    } finally {
      session.close();
    }
  });

  it('reconnects when the Gateway closed the connection, when the token changed, and every few minutes', async () => {
    fake.behaviour = 'healthy';
    let now = 0;
    const session = new GatewaySession(`ws://127.0.0.1:${fake.port}`, 'test', () => now);
    try {
      await session.probe(TOKEN, 1_000);
      now += REHANDSHAKE_EVERY_MS;
      assert.equal((await session.probe(TOKEN, 1_000)).handshake, true, 'periodic full handshake');
      const refused = await session.probe('rotated-token-999', 1_000);
      assert.deepEqual([refused.ok, refused.handshake], [false, true], 'a new token means a new handshake');
      assert.equal((await session.probe(TOKEN, 1_000)).ok, true);
      await fake.close();
      fake = await startFakeGateway(TOKEN);
      const gone = await session.probe(TOKEN, 1_000);
      assert.equal(gone.ok, false, 'the old port is gone');
    } finally {
      session.close();
    }
  });
});

describe('HTTP probe', () => {
  let fake: FakeGateway;
  before(async () => {
    fake = await startFakeGateway(TOKEN);
  });
  after(() => fake.close());

  it('reads /healthz as ok and /readyz 503 as not ready, naming what is failing', async () => {
    const live = await probeHttp({ port: fake.port, path: '/healthz', timeoutMs: 1_000 });
    assert.equal(live.ok, true);
    const ready = await probeHttp({ port: fake.port, path: '/readyz', timeoutMs: 1_000 });
    assert.equal(ready.ok, false);
    assert.equal(ready.status, 503);
    assert.match(ready.detail, /failing: startup-sidecars/);
  });
});

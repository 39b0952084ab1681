import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.js';
import { startHeartbeat, type Heartbeat, type IntervalTimers } from '../../src/daemon/heartbeat.js';
import { Receiver } from '../helpers/receiver.js';

const CHECK_KEY = '5f2c1a9e-8d3b-4c6f-a1e2-0b9d8c7e6f5a';

/** Interval timers the test fires by hand, so "every interval" is exact and instant. */
function manualTimers(): IntervalTimers & { fire(): void; cleared: boolean; everyMs: number | undefined } {
  let run: (() => void) | undefined;
  const timers = {
    cleared: false,
    everyMs: undefined as number | undefined,
    setInterval(callback: () => void, ms: number) {
      run = callback;
      timers.everyMs = ms;
      return 'interval';
    },
    clearInterval(handle: unknown) {
      if (handle === 'interval') timers.cleared = true;
    },
    fire() {
      run?.();
    },
  };
  return timers;
}

function captureLog() {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger({ level: 'debug', destination: sink });
  const records = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string; error?: string; to?: string });
  return { log, lines, warnings: () => records().filter((r) => r.level === 40), infos: () => records().filter((r) => r.level === 30) };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A receiver that holds every request until released, to see how many the heartbeat has open at once. */
async function holdingReceiver() {
  const held: Array<{ path: string; res: ServerResponse }> = [];
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    seen.push(req.url ?? '');
    held.push({ path: req.url ?? '', res });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/ping/${CHECK_KEY}`,
    seen,
    get open() {
      return held.filter((h) => !h.res.writableEnded && !h.res.destroyed).length;
    },
    releaseAll() {
      for (const h of held.splice(0)) if (!h.res.destroyed) h.res.end('OK');
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('heartbeat', () => {
  let receiver: Receiver;
  let heartbeat: Heartbeat | undefined;

  before(async () => {
    receiver = await Receiver.start();
  });
  after(() => receiver.down());
  afterEach(async () => {
    heartbeat?.stop();
    heartbeat = undefined;
    receiver.requests.length = 0;
    receiver.mode = 'ok';
    if (!receiver.listening) await receiver.up();
  });

  it('pings the check URL at start and then every interval, with what lifeguard sees as the body', async () => {
    const timers = manualTimers();
    const capture = captureLog();
    heartbeat = startHeartbeat({ url: receiver.url(`/ping/${CHECK_KEY}`), intervalMs: 60_000, timers, log: capture.log, verdict: () => ({ ok: true, detail: 'PM2 reachable; main healthy; rescue healthy' }) });
    await until(() => capture.lines.some((line) => line.includes('"heartbeat delivered"')), 'the first ping');
    assert.equal(timers.everyMs, 60_000);
    timers.fire();
    await until(() => receiver.requests.length === 2, 'the interval ping');
    for (const request of receiver.requests) {
      assert.equal(request.method, 'POST');
      assert.equal(request.path, `/ping/${CHECK_KEY}`);
      assert.equal(request.body, 'PM2 reachable; main healthy; rescue healthy');
      assert.match(String(request.headers['content-type']), /^text\/plain/);
    }
  });

  it('pings <url>/fail with the reason while something is wrong, keeping the query string', async () => {
    let verdict = { ok: true, detail: 'all well' };
    const { log } = captureLog();
    heartbeat = startHeartbeat({ url: receiver.url(`/ping/${CHECK_KEY}/?create=1`), intervalMs: 60_000, timers: manualTimers(), log, verdict: () => verdict });
    await until(() => receiver.requests.length === 1, 'the first ping');
    verdict = { ok: false, detail: 'PM2 daemon not answering for 25s: connect ECONNREFUSED' };
    await heartbeat.pingNow();
    assert.deepEqual(receiver.requests.map((r) => r.path), [`/ping/${CHECK_KEY}/?create=1`, `/ping/${CHECK_KEY}/fail?create=1`]);
    assert.equal(receiver.requests[1]?.body, 'PM2 daemon not answering for 25s: connect ECONNREFUSED');
  });

  it('logs a failed ping once per distinct failure, naming only the origin, and never throws', async () => {
    const capture = captureLog();
    receiver.mode = 'error';
    heartbeat = startHeartbeat({ url: receiver.url(`/ping/${CHECK_KEY}`), intervalMs: 60_000, timers: manualTimers(), log: capture.log, verdict: () => ({ ok: true, detail: 'fine' }) });
    await heartbeat.pingNow();
    await heartbeat.pingNow();
    assert.equal(capture.warnings().length, 1, 'the same failure twice is one warning');
    assert.match(capture.warnings()[0]?.error ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${receiver.port}: answered 500`));

    await receiver.down();
    await heartbeat.pingNow();
    assert.equal(capture.warnings().length, 2);
    assert.match(capture.warnings()[1]?.error ?? '', /request failed \((ECONNREFUSED|UND_ERR_SOCKET)\)/, 'a new failure is a new warning');

    await receiver.up();
    receiver.mode = 'ok';
    await heartbeat.pingNow();
    assert.ok(capture.infos().some((r) => r.msg === 'heartbeat delivered again'));
    assert.ok(!capture.lines.join('').includes(CHECK_KEY), 'the check key is a credential and must not be logged');
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const capture = captureLog();
    receiver.mode = 'hang';
    heartbeat = startHeartbeat({ url: receiver.url(`/ping/${CHECK_KEY}`), intervalMs: 60_000, timers: manualTimers(), log: capture.log, timeoutMs: 200, verdict: () => ({ ok: true, detail: 'fine' }) });
    const started = Date.now();
    await heartbeat.pingNow();
    assert.ok(Date.now() - started < 2_000, 'the ping was cut at its timeout');
    assert.match(capture.warnings()[0]?.error ?? '', /timed out/);
  });
});

describe('heartbeat against a slow receiver', () => {
  it('never has two pings open: an interval during a ping is skipped, pingNow queues one more', async () => {
    const slow = await holdingReceiver();
    const timers = manualTimers();
    let verdict = { ok: true, detail: 'all well' };
    const heartbeat = startHeartbeat({ url: slow.url, intervalMs: 60_000, timers, log: captureLog().log, verdict: () => verdict });
    try {
      await until(() => slow.seen.length === 1, 'the first ping');
      timers.fire();
      timers.fire();
      verdict = { ok: false, detail: 'PM2 lost' };
      const queued = heartbeat.pingNow();
      assert.equal(heartbeat.pingNow(), queued, 'one queued ping, however often it is asked for');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(slow.open, 1);
      slow.releaseAll();
      await until(() => slow.seen.length === 2, 'the queued ping');
      slow.releaseAll();
      await queued;
      assert.deepEqual(slow.seen, [`/ping/${CHECK_KEY}`, `/ping/${CHECK_KEY}/fail`], 'the queued ping reports the verdict of its own time');
    } finally {
      heartbeat.stop();
      await slow.close();
    }
  });

  it('stops: the interval is cleared, the open ping is abandoned quietly, and nothing more is sent', async () => {
    const slow = await holdingReceiver();
    const timers = manualTimers();
    const capture = captureLog();
    const heartbeat = startHeartbeat({ url: slow.url, intervalMs: 60_000, timers, log: capture.log, verdict: () => ({ ok: true, detail: 'fine' }) });
    try {
      await until(() => slow.seen.length === 1, 'the first ping');
      const inFlight = heartbeat.pingNow();
      heartbeat.stop();
      await inFlight;
      assert.equal(timers.cleared, true);
      await heartbeat.pingNow();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(slow.seen.length, 1);
      assert.equal(capture.warnings().length, 0, 'stopping is no failure');
    } finally {
      await slow.close();
    }
  });
});

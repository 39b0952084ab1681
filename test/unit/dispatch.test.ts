import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/core/log.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { Outbox, type Delivery } from '../../src/notify/outbox.js';
import { resolveProviders } from '../../src/notify/registry.js';
import type { Alert } from '../../src/notify/types.js';
import { Receiver } from '../helpers/receiver.js';

const silent = createLogger({ level: 'silent' });

function alert(event: Alert['event'], sequence = 1): Alert {
  return {
    event, incidentId: 'main-20261125-210000Z', instance: 'main', severity: 'critical', summary: `main ${event}`,
    details: {}, commands: [], at: '2026-11-25T21:00:00.000Z', idempotencyKey: `main-20261125-210000Z.${event}.${sequence}`, host: 'test',
  };
}

function dispatcher(home: string, urls: Record<string, string>, updates: Delivery[] = []) {
  const { providers, problems } = resolveProviders(Object.entries(urls).map(([name, url]) => ({ type: 'webhook', name, url })));
  assert.deepEqual(problems, []);
  return new Dispatcher({
    outbox: new Outbox(home), providers, log: silent, env: {}, now: Date.now, rescueGateway: () => undefined,
    settings: { attemptTimeoutMs: 2_000, retryMaxDelayMs: 1_000, giveUpAfterMs: 60_000 },
    onUpdate: (d) => updates.push(d),
  });
}

describe('alert delivery through the outbox', { timeout: 60_000 }, () => {
  let home: string;
  let up: Receiver;
  let flaky: Receiver;
  before(async () => {
    up = await Receiver.start();
    flaky = await Receiver.start();
  });
  after(async () => {
    await up.down();
    await flaky.down();
  });

  it('a receiver that is down delays only itself, and gets every alert exactly once when it is back', async () => {
    home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    try {
      await flaky.down();
      const d = dispatcher(home, { steady: up.url('/hook'), flaky: flaky.url('/hook') });
      await d.enqueue(alert('down'));
      await d.enqueue(alert('escalated'));
      await sleep(300);
      assert.deepEqual(up.events().map((e) => e.event), ['down', 'escalated'], 'the healthy receiver is not held up');
      await sleep(1_500);
      await flaky.up();
      await d.drained();
      assert.deepEqual(flaky.events().map((e) => e.event), ['down', 'escalated'], 'delivered in order once back');
      // A replay of the same alerts (lifeguard restarted mid-incident) sends nothing again.
      const again = dispatcher(home, { steady: up.url('/hook'), flaky: flaky.url('/hook') });
      assert.deepEqual(await again.enqueue(alert('down')), []);
      await again.resume();
      await again.drained();
      assert.equal(up.events().length, 2);
      assert.equal(flaky.events().length, 2);
      assert.equal(up.requests[0]!.headers['idempotency-key'], 'main-20261125-210000Z.down.1');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('resumes pending deliveries left by a previous run', async () => {
    home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    try {
      const before = up.events().length;
      // Queued by a run that died (or by a CLI command) before sending.
      const { providers } = resolveProviders([{ type: 'webhook', name: 'steady', url: up.url('/hook') }]);
      await new Outbox(home).add(alert('resolved'), providers.map((p) => p.name), Date.now());
      const d = dispatcher(home, { steady: up.url('/hook') });
      await d.resume();
      await d.drained();
      assert.deepEqual(up.events().slice(before).map((e) => e.event), ['resolved']);
      assert.deepEqual(readdirSync(join(home, 'outbox', 'pending')), []);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('gives up at once on a 4xx other than 429 and records why', async () => {
    home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    const updates: Delivery[] = [];
    try {
      up.reply = () => ({ status: 404, body: 'no such hook' });
      const d = dispatcher(home, { steady: up.url('/missing') }, updates);
      await d.enqueue(alert('down'));
      await d.drained();
      const last = updates.at(-1)!;
      assert.equal(last.status, 'failed');
      assert.equal(last.attempts, 1);
      assert.match(last.lastError ?? '', /404/);
    } finally {
      up.reply = () => ({ status: 200, body: '{"ok":true}' });
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('retries a receiver answering 500 until it recovers', async () => {
    home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    const updates: Delivery[] = [];
    try {
      const before = up.events().length;
      up.mode = 'error';
      const d = dispatcher(home, { steady: up.url('/hook') }, updates);
      await d.enqueue(alert('down'));
      await sleep(2_500);
      up.mode = 'ok';
      await d.drained();
      assert.deepEqual(up.events().slice(before).map((e) => e.event), ['down']);
      const last = updates.at(-1)!;
      assert.equal(last.status, 'delivered');
      assert.ok(last.attempts >= 2, `attempts ${last.attempts}`);
    } finally {
      up.mode = 'ok';
      rmSync(home, { recursive: true, force: true });
    }
  });
  it('sends through the providers of an edited config from then on; one that is gone gets nothing more', async () => {
    home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    try {
      const d = dispatcher(home, { steady: up.url('/swap-a') });
      await d.enqueue(alert('down', 7));
      await d.drained();
      const before = up.events().length;
      d.setProviders(resolveProviders([{ type: 'webhook', name: 'added', url: flaky.url('/swap-b') }]).providers);
      assert.deepEqual(d.providerNames, ['added']);
      await d.enqueue(alert('escalated', 7));
      await d.drained();
      assert.equal(up.events().length, before, 'the removed provider gets nothing more');
      assert.ok(flaky.events().some((e) => e.idempotencyKey.endsWith('escalated.7')), 'the added provider gets the next alert');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('no head-of-line blocking', { timeout: 60_000 }, () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await Receiver.start();
  });
  after(() => receiver.down());

  it('an alert that keeps failing does not hold a newer one back; it keeps retrying and its record says it was overtaken', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lg-dispatch-'));
    const updates: Delivery[] = [];
    try {
      let refuseDown = true;
      const accepted: string[] = [];
      receiver.reply = (request) => {
        const event = (request.json as { event?: string } | undefined)?.event ?? '';
        if (event === 'down' && refuseDown) return { status: 503, body: 'busy' };
        accepted.push(event);
        return { status: 200, body: '{"ok":true}' };
      };
      const d = dispatcher(home, { phone: receiver.url('/hook') }, updates);
      await d.enqueue(alert('down'));
      await pollFor(() => updates.some((u) => u.alert.event === 'down' && u.attempts >= 2));
      await d.enqueue(alert('escalated'));
      await pollFor(() => updates.some((u) => u.alert.event === 'down' && u.overtakenBy));
      assert.ok(updates.some((u) => u.alert.event === 'escalated' && u.status === 'delivered'), 'the newer alert went out');
      const pending = await new Outbox(home).pending();
      assert.deepEqual(pending.map((p) => p.alert.event), ['down'], 'the failing alert is still queued');
      assert.equal(pending[0]!.overtakenBy, 'main-20261125-210000Z.escalated.1');
      refuseDown = false;
      await d.drained();
      assert.deepEqual(accepted, ['escalated', 'down'], 'the failing alert went out once it could');
      assert.equal(updates.at(-1)!.status, 'delivered');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

async function pollFor(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(20);
}

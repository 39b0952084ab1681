import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.js';
import {
  initialPm2WatchState, Pm2Watch, stepPm2Watch, type Pm2Reachability, type Pm2Transition, type Pm2WatchEvent,
} from '../../src/daemon/pm2-watch.js';

const REFUSED = 'connect ECONNREFUSED /home/u/.pm2/rpc.sock';
const s = (seconds: number) => seconds * 1000;
/** Shorthands for the tables: a call that answered, one that failed, a bus packet; times in seconds. */
const ok = (at: number): Pm2WatchEvent => ({ type: 'call', at: s(at), ok: true });
const fail = (at: number, detail = REFUSED): Pm2WatchEvent => ({ type: 'call', at: s(at), ok: false, detail });
const bus = (at: number): Pm2WatchEvent => ({ type: 'bus', at: s(at) });
const failEvery = (step: number, from: number, to: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => fail(from + i * step));

interface Case {
  readonly name: string;
  readonly events: readonly Pm2WatchEvent[];
  /** Every transition, in order: at (s), to, and what the reason must say. */
  readonly transitions: ReadonlyArray<readonly [number, Pm2Reachability, RegExp]>;
  readonly final: Pm2Reachability;
}

const CASES: readonly Case[] = [
  { name: 'three quick refusals (a PM2 restart) are no loss', events: [fail(0), fail(2), fail(4), ok(6)], transitions: [], final: 'reachable' },
  {
    name: 'three failures spanning 20 s are a loss, with the last error',
    events: [fail(0), fail(10), fail(20)],
    transitions: [[20, 'lost', /^PM2 daemon not answering for 20s: connect ECONNREFUSED \/home\/u\/\.pm2\/rpc\.sock$/]],
    final: 'lost',
  },
  {
    name: 'quick failures become a loss only once they span 20 s',
    events: failEvery(5, 0, 25),
    transitions: [[20, 'lost', /not answering for 20s/]],
    final: 'lost',
  },
  { name: 'two failures are no loss, however far apart', events: [fail(0), fail(30)], transitions: [], final: 'reachable' },
  { name: 'an answer in between starts the count again', events: [fail(0), fail(10), ok(15), fail(20), fail(30)], transitions: [], final: 'reachable' },
  {
    name: 'a timed-out call counts as a failure and says so',
    events: [fail(0, 'no answer within 5s'), fail(10, 'no answer within 5s'), fail(20, 'no answer within 5s')],
    transitions: [[20, 'lost', /not answering for 20s: no answer within 5s$/]],
    final: 'lost',
  },
  {
    name: 'one answer after a loss is not enough; two in a row are, and the reason gives the outage length',
    events: [...failEvery(10, 0, 20), fail(60), ok(90), ok(95)],
    transitions: [[20, 'lost', /not answering/], [95, 'reachable', /^PM2 daemon answering again after 1m 35s$/]],
    final: 'reachable',
  },
  {
    name: 'a failure between two answers keeps it lost',
    events: [...failEvery(10, 0, 20), ok(30), fail(35), ok(40)],
    transitions: [[20, 'lost', /not answering/]],
    final: 'lost',
  },
  {
    name: 'recent bus traffic shows the daemon alive and holds the verdict until the bus falls quiet',
    events: [fail(0), fail(10), bus(15), fail(20), fail(30), fail(35)],
    transitions: [[35, 'lost', /^PM2 daemon not answering for 35s: /]],
    final: 'lost',
  },
  {
    name: 'bus traffic holds the verdict for 60 s at most: answering no call is no use',
    events: [...[0, 10, 20, 30, 40, 50, 60].flatMap((at) => [bus(at), fail(at + 1)])],
    transitions: [[61, 'lost', /^PM2 daemon not answering calls for 1m \(its event bus still speaks\): connect ECONNREFUSED/]],
    final: 'lost',
  },
  { name: 'bus traffic from long before the failures holds nothing', events: [bus(0), fail(30), fail(40), fail(50)], transitions: [[50, 'lost', /for 20s/]], final: 'lost' },
  { name: 'failures while lost report nothing new', events: [...failEvery(10, 0, 100)], transitions: [[20, 'lost', /for 20s/]], final: 'lost' },
];

describe('PM2 reachability (pure)', () => {
  it('starts reachable: lifeguard has just connected', () => {
    assert.equal(initialPm2WatchState(0).reachability, 'reachable');
  });

  for (const c of CASES) {
    it(c.name, () => {
      let state = initialPm2WatchState(0);
      const transitions: Pm2Transition[] = [];
      for (const event of c.events) {
        const { next, transition } = stepPm2Watch(state, event);
        state = next;
        if (transition) transitions.push(transition);
      }
      assert.deepEqual(transitions.map((t) => [t.at / 1000, t.to]), c.transitions.map(([at, to]) => [at, to]));
      transitions.forEach((t, i) => assert.match(t.reason, c.transitions[i]![2]));
      assert.equal(state.reachability, c.final);
    });
  }
});

describe('PM2 watch (polling shell)', () => {
  const fast = { failuresToLose: 3, minLossSpanMs: 30, successesToRecover: 2, busShowsAliveMs: 30, maxBusHoldMs: 200 };
  const silent = createLogger({ level: 'silent' });
  const until = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 3_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  it('reports a daemon that refuses calls as lost, and as reachable once it answers again', async () => {
    let daemonUp = false;
    const changes: Pm2Transition[] = [];
    const watch = new Pm2Watch({
      check: async () => {
        if (!daemonUp) throw Object.assign(new Error('connect ECONNREFUSED /home/u/.pm2/rpc.sock'), { code: 'ECONNREFUSED' });
      },
      onChange: (change) => changes.push(change), log: silent, intervalMs: 5, timeoutMs: 50, settings: fast,
    });
    watch.start();
    try {
      await until(() => changes.length === 1, 'the loss');
      assert.equal(watch.reachable, false);
      assert.match(changes[0]!.reason, /^PM2 daemon not answering for \d+s: connect ECONNREFUSED \/home\/u\/\.pm2\/rpc\.sock$/);
      daemonUp = true;
      await until(() => changes.length === 2, 'the recovery');
      assert.equal(watch.reachable, true);
      assert.equal(changes[1]!.to, 'reachable');
    } finally {
      watch.stop();
    }
  });

  it('counts a call that never answers as failed at its timeout, without waiting for it', async () => {
    const changes: Pm2Transition[] = [];
    let calls = 0;
    const watch = new Pm2Watch({
      check: () => {
        calls += 1;
        return new Promise(() => {});
      },
      onChange: (change) => changes.push(change), log: silent, intervalMs: 5, timeoutMs: 20, settings: fast,
    });
    watch.start();
    try {
      await until(() => changes.length === 1, 'the loss');
      assert.match(changes[0]!.reason, /no answer within/);
      assert.ok(calls >= 3);
    } finally {
      watch.stop();
    }
  });

  it('holds the verdict while the bus speaks, and keeps watching when the reaction throws', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'error', destination: new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } }) });
    const changes: Pm2Transition[] = [];
    let daemonUp = false;
    const watch = new Pm2Watch({
      check: async () => {
        if (!daemonUp) throw new Error('PM2 list did not answer');
      },
      onChange: (change) => {
        changes.push(change);
        throw new Error('bug in the reaction');
      },
      log, intervalMs: 5, timeoutMs: 50, settings: { ...fast, maxBusHoldMs: 150 },
    });
    const started = Date.now();
    const chatter = setInterval(() => watch.noteBusActivity(), 5);
    watch.start();
    try {
      await until(() => changes.length === 1, 'the loss');
      assert.ok(Date.now() - started >= 150, 'held while the bus spoke');
      assert.match(changes[0]!.reason, /its event bus still speaks/);
      assert.match(lines.join(''), /reacting to a PM2 reachability change failed/);
      daemonUp = true;
      await until(() => changes.length === 2, 'the recovery after a throwing reaction');
    } finally {
      clearInterval(chatter);
      watch.stop();
    }
  });

  it('makes no call after stop', async () => {
    let calls = 0;
    const watch = new Pm2Watch({ check: async () => void (calls += 1), onChange: () => {}, log: silent, intervalMs: 5 });
    watch.start();
    await until(() => calls >= 2, 'two calls');
    watch.stop();
    const seen = calls;
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(calls, seen);
  });
});

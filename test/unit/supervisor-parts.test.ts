import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { AppStatus, Pm2Client } from '../../src/actions/pm2.js';
import type { ResolvedInstance } from '../../src/config/instance.js';
import { createLogger } from '../../src/core/log.js';
import { initialSnapshot, step } from '../../src/detector/machine.js';
import type { DetectorEffect, DetectorEvent, DetectorSettings, FailureEvidence } from '../../src/detector/types.js';
import { InstanceWatcher } from '../../src/daemon/instance-watcher.js';
import { Pm2Bridge } from '../../src/daemon/pm2-bridge.js';
import { OperatorActionTracker } from '../../src/daemon/pm2-events.js';
import type { ProbeCycleResult } from '../../src/probes/cycle.js';
import { detectorSettingsFor } from '../helpers/settings.js';

const silent = createLogger({ level: 'silent' });
const settings: DetectorSettings = detectorSettingsFor({ crashLoopExits: 5, settleMs: 0 });

/** A PM2 that answers `describe` from a table the test edits. */
function fakePm2(apps: Record<string, AppStatus>): Pm2Client {
  return {
    describe: async (name) => apps[name],
    list: async () => Object.values(apps),
    restart: async () => {},
    stop: async () => {},
    reloadLogs: async () => {},
    subscribe: async () => {},
    close: () => {},
  };
}

const app = (pid: number | undefined, restarts: number, status = 'online'): AppStatus =>
  ({ name: 'gateway-main', pid, status, restarts, uptimeSince: Date.now() - 5_000, port: 18789, outLog: undefined, errLog: undefined });

describe('PM2 bridge: nothing missed around a supervisor restart', () => {
  it('reports an exit that happened while lifeguard was not listening, then the new process', async () => {
    const events: DetectorEvent[] = [];
    const notes: string[] = [];
    const bridge = new Pm2Bridge(
      [{ appName: 'gateway-main', dispatch: async (e) => void events.push(e), secrets: () => [] }],
      { pm2: fakePm2({ 'gateway-main': app(4243, 1) }), log: silent, now: () => 1_000_000, operatorActions: new OperatorActionTracker(),
        note: (_app, text) => notes.push(text), setEvidence: () => {}, heardFromPm2: () => {} },
      new Map([['gateway-main', { pid: 4242, restarts: 0 }]]),
    );
    await bridge.reconcile();
    assert.deepEqual(events.map((e) => e.type), ['exit', 'online', 'tick']);
    assert.match(notes[0]!, /pid 4242 exited while lifeguard was not listening; PM2 restarted it as pid 4243/);
    // Fed to the detector of a healthy Gateway, that is an outage the incident desk hears about.
    let snapshot = step(step(initialSnapshot(0, settings), { type: 'online', at: 0, pid: 4242, manual: false }, settings).next,
      { type: 'probe', at: 1_000, live: true, ready: true, detail: 'ok' }, settings).next;
    const transitions: string[] = [];
    for (const event of events) {
      const result = step(snapshot, event, settings);
      snapshot = result.next;
      for (const effect of result.effects) if (effect.type === 'transition') transitions.push(effect.to);
    }
    assert.deepEqual(transitions, ['down', 'recovering']);
  });

  it('says nothing when PM2 still runs the process it ran before', async () => {
    const events: DetectorEvent[] = [];
    const bridge = new Pm2Bridge(
      [{ appName: 'gateway-main', dispatch: async (e) => void events.push(e), secrets: () => [] }],
      { pm2: fakePm2({ 'gateway-main': app(4242, 0) }), log: silent, now: () => 1_000_000, operatorActions: new OperatorActionTracker(),
        note: () => {}, setEvidence: () => {}, heardFromPm2: () => {} },
      new Map([['gateway-main', { pid: 4242, restarts: 0 }]]),
    );
    await bridge.reconcile();
    // The first reconcile of a new supervisor re-learns the pid (its start time); no exit is invented.
    assert.deepEqual(events.map((e) => e.type), ['online', 'tick']);
  });
});

const instance = { name: 'main', appName: 'gateway-main', flavour: 'openclaw', port: 18789, configPath: '/c' } as ResolvedInstance;

/** An InstanceWatcher on fake timers, a fake clock, and probes that fail with the given evidence. */
function watcherWith(evidence: () => Omit<FailureEvidence, 'ownLagMs'>, answers: () => boolean, probeTakesMs = 0) {
  let clock = 1_000_000;
  const executed: DetectorEffect[] = [];
  const started = step(initialSnapshot(clock - 600_000, settings), { type: 'online', at: clock - 600_000, pid: 77, manual: false }, settings).next;
  const healthy = step(started, { type: 'probe', at: clock - 500_000, live: true, ready: true, detail: 'ok' }, settings).next;
  const watcher = new InstanceWatcher(instance, healthy, {
    settings, log: silent, now: () => clock, intervalMs: 2_000, retryIntervalMs: 500, probeTimeoutMs: 1_500,
    onChange: () => {},
    execute: async (effect) => void executed.push(effect),
    processStatus: async () => 'online',
    failureFacts: async () => evidence(),
    probe: async (timeoutMs): Promise<ProbeCycleResult> => {
      const live = answers();
      clock += probeTakesMs;
      return { at: clock, live, ready: live, latencyMs: live ? 3 : timeoutMs, detail: live ? 'ok' : `no health reply within ${timeoutMs} ms`, ws: { ok: live } as never, http: [] };
    },
  });
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock += 100;
      mock.timers.tick(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { watcher, executed, advance, kills: () => executed.filter((e) => e.type === 'restart') };
}

describe('InstanceWatcher on a fake clock', () => {
  it('kills a Gateway that stops answering on a calm machine within seconds', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const w = watcherWith(() => ({ processState: 'R' }), () => false);
      w.watcher.start();
      await w.advance(12_000);
      w.watcher.stop();
      assert.equal(w.kills().length, 1);
    } finally {
      mock.timers.reset();
    }
  });

  it('does not count probes that lifeguard itself could not run on time', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      // Each probe "returns" 5 s after it began although its time-outs were 1.5 s: lifeguard was starved.
      const w = watcherWith(() => ({ processState: 'S', busy: 'CPU pressure 99%' }), () => false, 5_000);
      w.watcher.start();
      await w.advance(30_000);
      w.watcher.stop();
      assert.equal(w.kills().length, 0);
      assert.equal(w.watcher.state.state, 'healthy');
    } finally {
      mock.timers.reset();
    }
  });

  it('does not kill a Gateway that stops answering on a busy machine inside the busy window, and gives each probe longer', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const timeouts: number[] = [];
      const w = watcherWith(() => ({ processState: 'R', busy: 'CPU pressure 70%' }), () => false);
      const probe = (w.watcher as unknown as { deps: { probe: (t: number) => Promise<ProbeCycleResult> } }).deps;
      const original = probe.probe;
      probe.probe = (t) => { timeouts.push(t); return original(t); };
      w.watcher.start();
      await w.advance(18_000);
      assert.equal(w.kills().length, 0, 'still inside the 20 s busy window');
      assert.ok(timeouts.includes(4_500), `a busy confirmation probe gets 3× the time-out (saw ${[...new Set(timeouts)].join(', ')})`);
      await w.advance(5_000);
      w.watcher.stop();
      assert.equal(w.kills().length, 1, 'a Gateway that stays silent past the busy window is still called hung');
    } finally {
      mock.timers.reset();
    }
  });
});

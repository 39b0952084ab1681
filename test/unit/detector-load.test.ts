import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialSnapshot, judgeFailure, step } from '../../src/detector/machine.js';
import type { DetectorEffect, DetectorEvent, DetectorSettings, DetectorSnapshot, FailureEvidence } from '../../src/detector/types.js';
import { detectorSettingsFor } from '../helpers/settings.js';

const settings: DetectorSettings = detectorSettingsFor();

const calm: FailureEvidence = { processState: 'S', ownLagMs: 5 };
const busy: FailureEvidence = { processState: 'R', ownLagMs: 40, busy: 'CPU pressure 80%, I/O pressure 35%' };
const ok = (at: number): DetectorEvent => ({ type: 'probe', at, live: true, ready: true, detail: 'ok' });
const fail = (at: number, evidence: FailureEvidence = calm): DetectorEvent =>
  ({ type: 'probe', at, live: false, ready: false, detail: 'no health reply within 1500 ms', evidence });

function run(events: DetectorEvent[], start: DetectorSnapshot) {
  let snapshot = start;
  const effects: DetectorEffect[] = [];
  for (const event of events) {
    const result = step(snapshot, event, settings);
    snapshot = result.next;
    effects.push(...result.effects);
  }
  return { snapshot, effects, kills: effects.filter((e) => e.type === 'restart') };
}

/** A Gateway spawned long ago (past the settle window) and healthy since. */
function settledHealthy(): DetectorSnapshot {
  return run([{ type: 'online', at: 0, pid: 100, manual: false }, ok(1_000), ok(300_000)], initialSnapshot(0, settings)).snapshot;
}

/** Failed probes every `everyMs` from `from` for `count` probes. */
function failures(from: number, count: number, everyMs: number, evidence: FailureEvidence): DetectorEvent[] {
  return Array.from({ length: count }, (_, i) => fail(from + i * everyMs, evidence));
}

describe('detector under load: a slow Gateway on a busy machine is not killed', () => {
  it('on a calm machine, a streak must both reach the threshold and last hangConfirmMs', () => {
    // Three quick failures within 1.5 s: the old rule killed here (3.5 s from healthy to SIGKILL).
    const quick = run(failures(400_000, 3, 500, calm), settledHealthy());
    assert.equal(quick.snapshot.state, 'suspect');
    assert.equal(quick.kills.length, 0);
    const long = run(failures(400_000, 5, 1_000, calm), settledHealthy());
    assert.equal(long.snapshot.state, 'recovering');
    assert.equal(long.kills.length, 1);
  });

  it('on a busy machine, waits busyHangConfirmMs and says why in the reason', () => {
    const r = run(failures(400_000, 10, 2_000, busy), settledHealthy());
    assert.equal(r.kills.length, 0, 'after 18 s of failures under load nothing is killed yet');
    const later = run([fail(420_000, busy)], r.snapshot);
    assert.equal(later.kills.length, 1);
    const down = later.effects.find((e) => e.type === 'transition' && e.to === 'down');
    assert.match(down && down.type === 'transition' ? down.reason : '', /over 20 s .*machine busy: CPU pressure 80%/);
  });

  it('a Gateway spinning on a whole core is wedged, not starved: killed in the calm window though the machine looks busy', () => {
    // The spinner itself makes the CPU pressure; it gets a core and still does not answer.
    const spinner: FailureEvidence = { ...busy, cpuShare: 0.97 };
    const r = run(failures(400_000, 5, 1_000, spinner), settledHealthy());
    assert.equal(r.kills.length, 1);
    const down = r.effects.find((e) => e.type === 'transition' && e.to === 'down');
    assert.match(down && down.type === 'transition' ? down.reason : '', /over 4 s .*spinning: 97% of a core/);
    // Starved by others (a small share of a core), the same failures wait for the busy window.
    const starved = run(failures(400_000, 5, 1_000, { ...busy, cpuShare: 0.2 }), settledHealthy());
    assert.equal(starved.kills.length, 0);
    // Still settling after a start, where a full core is start-up work, the busy window holds.
    const starting = run([{ type: 'online', at: 400_000, pid: 200, manual: false }, ok(401_000), ...failures(410_000, 5, 1_000, spinner)], settledHealthy());
    assert.equal(starting.kills.length, 0);
  });

  it('one answer inside the window starts the count again', () => {
    const r = run([...failures(400_000, 8, 2_000, busy), ok(416_500), ...failures(417_000, 9, 2_000, busy)], settledHealthy());
    assert.equal(r.kills.length, 0);
  });

  it('uses the busy window while the Gateway is still settling after a start, even on a calm machine', () => {
    const fresh = run([{ type: 'online', at: 0, pid: 100, manual: false }, ok(5_000)], initialSnapshot(0, settings)).snapshot;
    const r = run(failures(30_000, 8, 1_000, calm), fresh);
    assert.equal(r.kills.length, 0, 'a Gateway 30 s after its start blocks its event loop for seconds (database checks)');
    const after = run(failures(30_000, 22, 1_000, calm), fresh);
    assert.equal(after.kills.length, 1);
  });

  it('never counts a probe that lifeguard itself ran late', () => {
    const starved: FailureEvidence = { processState: 'S', ownLagMs: 4_000, busy: 'CPU pressure 95%' };
    const r = run(failures(400_000, 30, 1_000, starved), settledHealthy());
    assert.equal(r.snapshot.state, 'healthy');
    assert.equal(r.snapshot.failStreak, 0);
  });

  it('calls a stopped (T) process hung at the first failed probe, whatever the load', () => {
    const r = run([fail(400_000, { processState: 'T', ownLagMs: 10, busy: 'CPU pressure 90%' })], settledHealthy());
    assert.equal(r.kills.length, 1);
    assert.equal(r.snapshot.classification, 'hung');
  });

  it('leaves a zombie to PM2: its exit event follows, and its pid is no longer the Gateway', () => {
    const r = run(failures(400_000, 10, 1_000, { processState: 'Z', ownLagMs: 0 }), settledHealthy());
    assert.equal(r.kills.length, 0);
  });

  it('judges evidence in a fixed order: own lag, exiting, stopped', () => {
    assert.equal(judgeFailure(undefined, settings), 'counted');
    assert.equal(judgeFailure({ processState: 'T', ownLagMs: 5_000 }, settings), 'not-counted');
    assert.equal(judgeFailure({ processState: 't', ownLagMs: 0 }, settings), 'frozen');
    assert.equal(judgeFailure({ processState: 'D', ownLagMs: 0, busy: 'I/O pressure 60%' }, settings), 'counted');
  });
});

describe('detector: start-up on a busy machine', () => {
  it('retries a failed first start quietly inside the grace of the first spawn', () => {
    const r = run([
      { type: 'online', at: 0, pid: 100, manual: false },
      { type: 'exit', at: 8_000, pid: 100, code: 1, signal: null, manual: false, output: [], errorOutput: ['Gateway failed to start: state lease heartbeat did not become ready timeoutMs=5000'] },
      { type: 'online', at: 10_000, pid: 101, manual: false },
      ok(30_000),
    ], initialSnapshot(0, settings));
    assert.deepEqual(r.effects.filter((e) => e.type === 'transition').map((e) => e.type === 'transition' && e.to), ['healthy']);
    assert.ok(r.effects.some((e) => e.type === 'note' && /first start failed .*state lease heartbeat/.test(e.text)));
  });

  it('keeps the grace of the first spawn across quiet retries: a start that never succeeds is still an outage', () => {
    const r = run([
      { type: 'online', at: 0, pid: 100, manual: false },
      { type: 'exit', at: 20_000, pid: 100, code: 1, signal: null, manual: false, output: [], errorOutput: [] },
      { type: 'online', at: 25_000, pid: 101, manual: false },
      ...failures(30_000, 4, 8_000, calm),
      { type: 'tick', at: 61_000 },
    ], initialSnapshot(0, settings));
    assert.equal(r.snapshot.classification, 'hung');
    assert.equal(r.kills.length, 1);
  });

  it('does not retry quietly when the Gateway refuses its config', () => {
    const r = run([
      { type: 'online', at: 0, pid: 100, manual: false },
      { type: 'exit', at: 3_000, pid: 100, code: 78, signal: null, manual: false, output: [], errorOutput: ['Invalid config at /c.json: Unrecognized key'] },
    ], initialSnapshot(0, settings));
    assert.equal(r.snapshot.state, 'down');
    assert.equal(r.snapshot.classification, 'config-invalid');
  });

  it('a crash of a Gateway that ran long before lifeguard restarted is an outage, not a quiet retry', () => {
    const resumed = initialSnapshot(500_000, settings);
    const r = run([
      { type: 'online', at: 10_000, pid: 100, manual: false },
      { type: 'exit', at: 500_500, pid: 100, code: null, signal: 'SIGKILL', manual: false, output: [], errorOutput: [] },
    ], resumed);
    assert.equal(r.snapshot.state, 'down');
  });

  it('stretches the start-up grace once, by half, when the machine was busy at its end', () => {
    const r = run([
      { type: 'online', at: 0, pid: 100, manual: false },
      ...failures(20_000, 6, 8_000, busy),
      { type: 'tick', at: 61_000 },
    ], initialSnapshot(0, settings));
    assert.equal(r.snapshot.state, 'starting');
    assert.ok(r.effects.some((e) => e.type === 'note' && /machine is busy .*waiting 30 s more/.test(e.text)));
    const later = run([fail(80_000, busy), { type: 'tick', at: 92_000 }], r.snapshot);
    assert.equal(later.kills.length, 1);
  });
});

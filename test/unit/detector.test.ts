import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { initialSnapshot, resumeSnapshot, step } from '../../src/detector/machine.js';
import { classifyExit, pickEvidence } from '../../src/detector/classify.js';
import type { DetectorEffect, DetectorEvent, DetectorSettings, DetectorSnapshot } from '../../src/detector/types.js';

const settings: DetectorSettings = {
  failureThreshold: 3,
  successThreshold: 2,
  startupGraceMs: 60_000,
  crashLoopExits: 4,
  crashLoopWindowMs: 600_000,
  maxRestartsPerHour: 2,
  hangConfirmMs: 0,
  busyHangConfirmMs: 20_000,
  settleMs: 0,
  maxOwnLagMs: 1_000,
  networkRetryMs: 30_000,
  networkRetryMaxMs: 900_000,
};

const ok = (at: number): DetectorEvent => ({ type: 'probe', at, live: true, ready: true, detail: 'ok' });
const unready = (at: number): DetectorEvent => ({ type: 'probe', at, live: true, ready: false, detail: '/readyz answered 503' });
const fail = (at: number): DetectorEvent => ({ type: 'probe', at, live: false, ready: false, detail: 'no WebSocket upgrade within 1500 ms' });
const online = (at: number, pid: number, manual = false): DetectorEvent => ({ type: 'online', at, pid, manual });
const exit = (at: number, pid: number, extra: Partial<Extract<DetectorEvent, { type: 'exit' }>> = {}): DetectorEvent =>
  ({ type: 'exit', at, pid, code: 1, signal: null, manual: false, output: [], errorOutput: [], ...extra });

/** What Clawdbot 2026.1.x prints as it exits when Telegram cannot be reached (openclaw issue #14736). */
const FETCH_FAILED = [
  "[telegram] setMyCommands failed: HttpError: Network request for 'setMyCommands' failed!",
  '[clawdbot] Unhandled promise rejection: TypeError: fetch failed',
  '    at node:internal/deps/undici/undici:15270:13',
];

/** Runs events in order from a fresh snapshot and returns the final snapshot plus every effect. */
function run(events: DetectorEvent[], start?: DetectorSnapshot) {
  let snapshot = start ?? initialSnapshot(0, settings);
  const effects: DetectorEffect[] = [];
  const states: string[] = [];
  for (const event of events) {
    const result = step(snapshot, event, settings);
    snapshot = result.next;
    effects.push(...result.effects);
    states.push(snapshot.state);
  }
  return { snapshot, effects, states, transitions: effects.filter((e) => e.type === 'transition').map((e) => (e.type === 'transition' ? e.to : '')) };
}

function healthy(pid = 100): DetectorSnapshot {
  return run([online(0, pid), ok(1_000)]).snapshot;
}

describe('detector: start-up', () => {
  it('ignores failures during the start-up grace and turns healthy on the first success', () => {
    const r = run([online(0, 100), fail(2_000), fail(4_000), fail(6_000), fail(8_000), ok(10_000)]);
    assert.deepEqual(r.transitions, ['healthy']);
    assert.equal(r.effects.some((e) => e.type === 'restart'), false);
  });

  it('starts the grace clock when the process exists, not before', () => {
    const r = run([online(50_000, 100), fail(70_000), fail(100_000)]);
    assert.equal(r.snapshot.state, 'starting');
  });

  it('calls a process that never answers within the grace hung and restarts it (the grace has a deadline)', () => {
    const r = run([online(0, 100), fail(30_000), fail(40_000), fail(50_000), { type: 'tick', at: 60_000 }]);
    assert.deepEqual(r.transitions, ['down', 'recovering']);
    assert.equal(r.snapshot.classification, 'hung');
    assert.deepEqual(r.effects.find((e) => e.type === 'restart'), { type: 'restart', kill: true, pid: 100, reason: 'no successful probe within the 60 s start-up grace' });
  });

  it('judges a Gateway that was already running when lifeguard started by the threshold, not one blip', () => {
    // PM2 reports the process spawned long ago, so its grace is already over.
    const once = run([online(-600_000, 100), fail(1_000)]);
    assert.equal(once.snapshot.state, 'starting');
    assert.equal(once.effects.length, 0);
    const thrice = run([online(-600_000, 100), fail(1_000), fail(1_500), fail(2_000)]);
    assert.deepEqual(thrice.transitions, ['down', 'recovering']);
  });

  it('reports degraded when live but not ready', () => {
    assert.deepEqual(run([online(0, 100), unready(1_000)]).transitions, ['degraded']);
  });
});

describe('detector: hysteresis', () => {
  const cases: Array<{ name: string; events: DetectorEvent[]; transitions: string[] }> = [
    { name: 'one failure makes it suspect, not down', events: [fail(10_000)], transitions: ['suspect'] },
    { name: 'failures below the threshold then a success do not go down', events: [fail(10_000), fail(12_000), ok(14_000), ok(16_000)], transitions: ['suspect', 'healthy'] },
    { name: 'one success after suspect is not enough to be healthy again', events: [fail(10_000), ok(12_000)], transitions: ['suspect'] },
    { name: 'alternating results never reach down (no flapping)', events: [fail(10_000), ok(11_000), fail(12_000), ok(13_000), fail(14_000), ok(15_000)], transitions: ['suspect'] },
    { name: 'the threshold of consecutive failures goes down as hung and restarts', events: [fail(10_000), fail(11_000), fail(12_000)], transitions: ['suspect', 'down', 'recovering'] },
    { name: 'not ready for the threshold goes degraded, ready twice comes back', events: [unready(10_000), unready(12_000), unready(14_000), ok(16_000), ok(18_000)], transitions: ['degraded', 'healthy'] },
    { name: 'a single unready probe does not degrade', events: [unready(10_000), ok(12_000)], transitions: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(run(c.events, healthy()).transitions, c.transitions);
    });
  }

  it('does not kill a hung Gateway while automation is held, and kills it once the hold is lifted', () => {
    const held = run([{ type: 'hold', at: 9_000, reason: 'paused for planned work until 21:30' }, fail(10_000), fail(11_000), fail(12_000)], healthy());
    assert.equal(held.effects.some((e) => e.type === 'restart'), false);
    assert.equal(held.snapshot.state, 'down');
    assert.match(held.snapshot.reason, /not restarting: paused for planned work/);
    const released = run([{ type: 'hold', at: 13_000, reason: undefined }, fail(14_000)], held.snapshot);
    assert.equal(released.effects.filter((e) => e.type === 'restart').length, 1);
  });

  it('calls a SIGKILLed Gateway crashed, whatever refused hot reload it logged before', () => {
    const output = ['2026-11-25T21:31:44.681+00:00 [reload] config reload skipped (invalid config): : JSON5 parse failed: SyntaxError'];
    const r = run([exit(20_000, 100, { signal: 'SIGKILL', code: null, output, errorOutput: output })], healthy());
    assert.equal(r.snapshot.classification, 'crashed');
    assert.equal(r.effects.some((e) => e.type === 'stop'), false, 'PM2 restarts a crash; only a refused config is stopped');
    assert.doesNotMatch(r.snapshot.reason, /reload/);
    const refusedReloadThenCrash = run([exit(20_000, 100, { code: 1, output, errorOutput: output })], healthy());
    assert.equal(refusedReloadThenCrash.snapshot.classification, 'crashed');
  });

  it('kills the hung pid and treats its exit as expected, then recovers on the new pid', () => {
    const r = run([fail(10_000), fail(11_000), fail(12_000), exit(12_100, 100, { code: null, signal: 'SIGKILL' }), online(13_000, 200), ok(20_000), ok(22_000)], healthy(100));
    assert.deepEqual(r.transitions, ['suspect', 'down', 'recovering', 'healthy']);
    assert.equal(r.snapshot.pid, 200);
    assert.equal(r.snapshot.exits.length, 0, 'our own kill is not counted as a crash');
  });

  it('resets the failure streak when PM2 reports a new pid', () => {
    const r = run([fail(10_000), fail(11_000), online(11_500, 300), fail(12_000)], healthy());
    assert.equal(r.snapshot.state, 'recovering');
    assert.equal(r.snapshot.failStreak, 1);
    assert.equal(r.effects.some((e) => e.type === 'restart'), false, 'still in the new process’s grace');
  });

  it('stops restarting once the hourly budget is used, and says so', () => {
    let s = healthy(100);
    const restarts: DetectorEffect[] = [];
    for (const [t, pid] of [[100_000, 100], [200_000, 101]] as const) {
      const r = run([fail(t), fail(t + 1_000), fail(t + 2_000), exit(t + 2_100, pid), online(t + 3_000, pid + 1), ok(t + 4_000), ok(t + 5_000)], s);
      s = r.snapshot;
      restarts.push(...r.effects.filter((e) => e.type === 'restart'));
    }
    assert.equal(restarts.length, 2);
    assert.equal(s.state, 'healthy');
    const third = run([fail(300_000), fail(301_000), fail(302_000)], s);
    assert.equal(third.effects.some((e) => e.type === 'restart'), false);
    assert.equal(third.snapshot.state, 'down');
    assert.match(third.snapshot.reason, /restart budget of 2 per hour used up/);
    const stillHung = run([fail(303_000)], third.snapshot);
    assert.equal(stillHung.effects.length, 0);
    const nextHour = run([fail(3_800_000)], third.snapshot);
    assert.equal(nextHour.effects.filter((e) => e.type === 'restart').length, 1, 'the budget refills after an hour and the still-hung Gateway is restarted');
    assert.equal(nextHour.snapshot.state, 'recovering');
  });
});

describe('detector: exits', () => {
  it('a crash goes down at once, then recovering when PM2 starts it again', () => {
    const r = run([exit(10_000, 100, { code: null, signal: 'SIGKILL' }), online(11_000, 200), ok(15_000), ok(17_000)], healthy());
    assert.deepEqual(r.transitions, ['down', 'recovering', 'healthy']);
    assert.equal(r.effects.some((e) => e.type === 'restart'), false, 'PM2 restarts a crash by itself');
  });

  it('trips the crash-loop breaker on N exits in the window, however old the process', () => {
    const events: DetectorEvent[] = [];
    for (let i = 0; i < 4; i += 1) events.push(exit(1_000_000 + i * 20_000, 100 + i), online(1_000_000 + i * 20_000 + 1_000, 101 + i));
    // The last online is PM2 racing the stop: it must not count as a recovery.
    const r = run(events, healthy());
    assert.equal(r.snapshot.state, 'down');
    assert.equal(r.snapshot.classification, 'crash-looping');
    assert.equal(r.snapshot.breakerOpen, true);
    assert.ok(r.effects.some((e) => e.type === 'stop'));
  });

  it('forgets exits older than the window', () => {
    const r = run([exit(0, 100), online(1, 101), exit(700_000, 101), online(700_001, 102), exit(1_400_000, 102), online(1_400_001, 103), exit(2_100_000, 103)], healthy());
    assert.notEqual(r.snapshot.classification, 'crash-looping');
  });

  it('classifies exit 78 as config-invalid and stops PM2 from looping it', () => {
    const r = run([exit(10_000, 100, { code: 78, errorOutput: ['Gateway failed to start: Invalid config at /x/openclaw.json'] })], healthy());
    assert.equal(r.snapshot.classification, 'config-invalid');
    assert.match(r.snapshot.reason, /Invalid config at/);
    assert.ok(r.effects.some((e) => e.type === 'stop'));
  });

  it("keeps the classification when its own stop produces PM2's manual exit", () => {
    const r = run([exit(10_000, 100, { code: 78 }), exit(10_500, 100, { manual: true })], healthy());
    assert.equal(r.snapshot.classification, 'config-invalid');
  });

  it('an operator stop is down/stopped with no action; a manual start closes the breaker', () => {
    const stopped = run([exit(10_000, 100, { manual: true, code: 0 })], healthy());
    assert.equal(stopped.snapshot.classification, 'stopped');
    assert.equal(stopped.effects.some((e) => e.type === 'restart' || e.type === 'stop'), false);
    const restarted = run([online(20_000, 200, true)], { ...stopped.snapshot, breakerOpen: true });
    assert.equal(restarted.snapshot.state, 'recovering');
    assert.equal(restarted.snapshot.breakerOpen, false);
  });

  it('PM2 restart overlimit goes down as crash-looping', () => {
    assert.equal(run([{ type: 'overlimit', at: 5_000 }], healthy()).snapshot.classification, 'crash-looping');
  });
});

describe('exit classification', () => {
  const cases: Array<[string, { code: number | null; output: string[] }, string]> = [
    ['OpenClaw exit 78', { code: 78, output: [] }, 'config-invalid'],
    ['Clawdbot "Config invalid" with exit 1', { code: 1, output: ['Config invalid', 'File: /x/clawdbot.json', 'Problem:', '  - <root>: Unrecognized key: "bogus"'] }, 'config-invalid'],
    ['missing gateway.mode', { code: 1, output: ['Gateway start blocked: set gateway.mode=local (current: unset)'] }, 'config-invalid'],
    ['a foreign listener', { code: 1, output: ['Gateway failed to start: another gateway instance is already listening on ws://127.0.0.1:28889'] }, 'port-conflict'],
    ['EADDRINUSE', { code: 1, output: ['Error: listen EADDRINUSE: address already in use 127.0.0.1:18789'] }, 'port-conflict'],
    ['a plain crash', { code: 1, output: ['TypeError: x is undefined'] }, 'crashed'],
    ["Clawdbot dying of an unreachable Telegram", { code: 1, output: [...FETCH_FAILED] }, 'network'],
    ['a crash long after a failed call it survived', { code: 1, output: [...FETCH_FAILED, ...Array.from({ length: 12 }, (_, i) => `line ${i}`), 'TypeError: x is undefined'] }, 'crashed'],
  ];
  for (const [name, exitInfo, expected] of cases) {
    it(name, () => assert.equal(classifyExit(exitInfo), expected));
  }
});

describe('detector: a Gateway dying of failed network calls', () => {
  const netExit = (at: number, pid: number) => exit(at, pid, { output: [...FETCH_FAILED], errorOutput: [...FETCH_FAILED] });
  /** Healthy, then Telegram goes away: PM2 restarts it four times in 40 s, each start dies the same way. */
  function outage() {
    return run([netExit(10_000, 100), online(11_000, 101), netExit(20_000, 101), online(21_000, 102), netExit(30_000, 102), online(31_000, 103), netExit(40_000, 103)], healthy());
  }

  it('is stopped, not looped by PM2, and told when it will be started again', () => {
    const r = outage();
    assert.equal(r.snapshot.state, 'down');
    assert.equal(r.snapshot.classification, 'network');
    assert.equal(r.snapshot.breakerOpen, false);
    assert.equal(r.snapshot.retryAt, 70_000);
    assert.ok(r.effects.some((e) => e.type === 'stop'));
    assert.match(r.snapshot.reason, /^exited with code 1: \[clawdbot\] Unhandled promise rejection: TypeError: fetch failed: it dies of a failed network call.*starts it again in 30 s/);
  });

  it('is started again after the wait, each failed start doubling the next wait, and back to normal once the network is', () => {
    let r = outage();
    r = run([{ type: 'tick', at: 69_000 }], r.snapshot);
    assert.equal(r.effects.length, 0, 'not before the wait is over');
    r = run([{ type: 'tick', at: 70_000 }], r.snapshot);
    assert.deepEqual(r.effects.filter((e) => e.type === 'start').length, 1);
    assert.equal(r.snapshot.state, 'recovering');
    // Still no network: the first death after lifeguard's start stops it at once, for twice as long.
    r = run([online(71_000, 104, true), netExit(75_000, 104)], r.snapshot);
    assert.equal(r.snapshot.state, 'down');
    assert.equal(r.snapshot.retryAt, 135_000);
    assert.ok(r.effects.some((e) => e.type === 'stop'));
    // The network is back: the next start stays up.
    r = run([{ type: 'tick', at: 135_000 }, online(136_000, 105, true), ok(140_000), ok(142_000)], r.snapshot);
    assert.equal(r.snapshot.state, 'healthy');
    assert.equal(r.effects.filter((e) => e.type === 'start').length, 1);
    // A blip long after is a fresh episode: PM2 restarts it, nothing is stopped.
    r = run([netExit(900_000, 105)], r.snapshot);
    assert.equal(r.snapshot.classification, 'network');
    assert.equal(r.snapshot.retryAt, undefined);
    assert.equal(r.effects.some((e) => e.type === 'stop'), false);
  });

  it('never waits longer than the maximum, and waits for a hold (a pause) to end before starting', () => {
    let r = outage();
    for (let i = 0; i < 8; i += 1) {
      const at = r.snapshot.retryAt!;
      r = run([{ type: 'tick', at }, online(at + 1_000, 200 + i, true), netExit(at + 5_000, 200 + i)], r.snapshot);
    }
    assert.equal(r.snapshot.retryAt! - r.snapshot.since, 900_000);
    const held = run([{ type: 'hold', at: 0, reason: 'paused by owner' }, { type: 'tick', at: r.snapshot.retryAt! }], r.snapshot);
    assert.equal(held.effects.length, 0);
    const released = run([{ type: 'hold', at: 0, reason: undefined }, { type: 'tick', at: r.snapshot.retryAt! + 2_000 }], held.snapshot);
    assert.equal(released.effects.filter((e) => e.type === 'start').length, 1);
  });

  it('keeps its wait across a restart of lifeguard', () => {
    const r = outage();
    const resumed = resumeSnapshot(JSON.parse(JSON.stringify(r.snapshot)) as DetectorSnapshot, 50_000, settings);
    assert.equal(resumed.retryAt, 70_000);
    assert.equal(run([{ type: 'tick', at: 70_000 }], resumed).effects.filter((e) => e.type === 'start').length, 1);
  });
});

describe('detector purity', () => {
  it('imports no I/O module and nothing from probes, actions or surfaces', () => {
    const dir = new URL('../../src/detector/', import.meta.url);
    for (const file of readdirSync(dir)) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const [, target] of source.matchAll(/from '([^']+)'/g)) {
        assert.ok(target!.startsWith('./'), `${file} imports ${target}`);
      }
      assert.doesNotMatch(source, /Date\.now\(|setTimeout|process\./, `${file} reads the clock or the process`);
    }
  });
});

describe('evidence quoted from the Gateway', () => {
  it("quotes OpenClaw's headline with its problem line, not the advice after it", () => {
    const stderr = [
      '2026-11-25T19:44:25.220+00:00 Gateway failed to start: Invalid config at /h/.openclaw/openclaw.json:',
      '<root>: Unrecognized key: "bogusTopKey"',
      'Run "openclaw doctor --fix" to repair, then retry.',
      'If startup is still blocked, inspect the adjacent .bak backup before restoring it manually.',
    ];
    assert.equal(pickEvidence(stderr), 'Gateway failed to start: Invalid config at /h/.openclaw/openclaw.json: <root>: Unrecognized key: "bogusTopKey"');
  });
  it('quotes nothing when stderr has nothing error-like', () => {
    assert.equal(pickEvidence(['[gateway] ready', '[heartbeat] started']), undefined);
  });
});

describe('detector: orphans', () => {
  it('does not call an app PM2 stopped healthy because something else answers on its port', () => {
    const down = run([{ type: 'not-running', at: 10_000, status: 'stopped' }], healthy()).snapshot;
    const r = run([ok(12_000), ok(14_000), ok(16_000)], down);
    assert.equal(r.snapshot.state, 'down');
    assert.deepEqual(r.transitions, []);
    assert.match(r.snapshot.reason, /PM2 runs no process for it/);
    assert.equal(r.snapshot.reason.split('PM2 runs no process').length, 2, 'the note is not repeated');
  });
});

describe('detector: lifeguard restarting itself', () => {
  it('carries the crash window, budget, breaker and a down verdict over, and nothing else', () => {
    const looping = run([exit(1_000, 100), online(2_000, 101), exit(3_000, 101), online(4_000, 102), exit(5_000, 102), online(6_000, 103), exit(7_000, 103)], healthy()).snapshot;
    assert.equal(looping.breakerOpen, true);
    const resumed = resumeSnapshot(looping, 60_000, settings);
    assert.equal(resumed.state, 'down');
    assert.equal(resumed.classification, 'crash-looping');
    assert.equal(resumed.breakerOpen, true);
    assert.equal(resumed.exits.length, 4);
    assert.equal(resumed.pid, undefined);
    const later = resumeSnapshot(looping, 7_000 + settings.crashLoopWindowMs + 1, settings);
    assert.equal(later.exits.length, 0, 'exits older than the window are dropped');
    assert.equal(resumeSnapshot({ ...healthy(), restarts: [1_000] }, 2_000, settings).state, 'starting');
    assert.deepEqual(resumeSnapshot({ ...healthy(), restarts: [1_000] }, 2_000, settings).restarts, [1_000]);
  });
});

describe('detector: after lifeguard restarts', () => {
  it('keeps a carried-over down verdict when it meets the same old process, without a fake restart line', () => {
    const hung = { ...healthy(100), state: 'down' as const, since: 50_000, reason: 'no answer; not restarting: restart budget used up', classification: 'hung' as const, pid: undefined };
    const r = run([online(10_000, 100)], hung);
    assert.equal(r.snapshot.state, 'down');
    assert.equal(r.snapshot.pid, 100);
    assert.deepEqual(r.transitions, []);
    assert.deepEqual(run([online(60_000, 101)], hung).transitions, ['recovering'], 'a process spawned after the verdict is a restart');
  });

  it('does not let an orphan answering the port end a start-up grace', () => {
    const waiting = { ...initialSnapshot(0, settings), pid: undefined };
    const r = run([ok(1_000), ok(2_000)], waiting);
    assert.equal(r.snapshot.state, 'starting');
  });
});

describe('exit classification: conflicts', () => {
  it('names a held lock or state database as an instance conflict, even with exit 78', () => {
    assert.equal(classifyExit({ code: 78, output: ['Gateway failed to start: database is locked'] }), 'instance-conflict');
    assert.equal(classifyExit({ code: 78, output: ['something unexpected'] }), 'config-invalid');
  });
});

describe('detector: failures PM2 explains', () => {
  const refused = (at: number, processStatus: string): DetectorEvent => ({ type: 'probe', at, live: false, ready: false, detail: 'open: ECONNREFUSED', processStatus });

  it('never calls a Gateway hung, nor kills it, while PM2 is stopping it (a graceful drain refuses connections)', () => {
    const r = run([refused(10_000, 'stopping'), refused(10_500, 'stopping'), refused(11_000, 'stopping')], healthy());
    assert.deepEqual(r.transitions, ['down']);
    assert.equal(r.snapshot.classification, 'stopped');
    assert.equal(r.effects.some((e) => e.type === 'restart'), false);
  });

  it('does not count failures while PM2 is restarting it', () => {
    const r = run([refused(10_000, 'waiting restart'), refused(10_500, 'launching'), refused(11_000, 'waiting restart')], healthy());
    assert.deepEqual(r.transitions, []);
    assert.equal(r.snapshot.failStreak, 0);
  });

  it('still calls it hung when PM2 says it is online', () => {
    const r = run([refused(10_000, 'online'), refused(10_500, 'online'), refused(11_000, 'online')], healthy());
    assert.equal(r.snapshot.classification, 'hung');
  });
});

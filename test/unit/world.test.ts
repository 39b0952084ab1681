import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialSnapshot } from '../../src/detector/machine.js';
import type { DetectorSnapshot } from '../../src/detector/types.js';
import { holdOf, worldOf, type InstanceFacts } from '../../src/daemon/world.js';

const T = Date.parse('2026-12-02T21:00:00Z');
const snapshot = (patch: Partial<DetectorSnapshot>): DetectorSnapshot => ({ ...initialSnapshot(T - 60_000, { startupGraceMs: 180_000 }), ...patch });
const healthy = snapshot({ state: 'healthy', reason: 'probes pass', graceUntil: undefined });

function facts(patch: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    at: T, instance: 'main', self: healthy, other: healthy, gatewayRecoveryAvailable: false,
    actionsLastHour: 0, maxActionsPerHour: 6, ...patch,
  };
}

describe("the supervisor's view of the world (pure)", () => {
  it('a rescue inside its start-up grace is coming, not usable; after its grace it is neither', () => {
    const starting = snapshot({ state: 'starting', graceUntil: T + 100_000 });
    assert.deepEqual([worldOf(facts({ other: starting })).rescueUsable, worldOf(facts({ other: starting })).rescueComing], [false, true]);
    const late = snapshot({ state: 'starting', graceUntil: T - 1 });
    assert.equal(worldOf(facts({ other: late })).rescueComing, false);
    assert.equal(worldOf(facts({ instance: 'rescue', other: starting })).rescueComing, false, 'the rescue has no rescue');
  });

  it('a down Gateway counts as alive while PM2 runs or restarts it, or when PM2 cannot be asked', () => {
    const down = snapshot({ state: 'down', classification: 'crashed' });
    assert.equal(worldOf(facts({ self: down, pm2Status: 'waiting restart' })).processAlive, true);
    assert.equal(worldOf(facts({ self: down, pm2Status: null })).processAlive, true);
    assert.equal(worldOf(facts({ self: down, pm2Status: 'stopped' })).processAlive, false);
  });

  it('names the spent budget, and marks a Gateway lifeguard stopped for its config', () => {
    const refused = snapshot({ state: 'down', classification: 'config-invalid' });
    const world = worldOf(facts({ self: refused, pm2Status: 'stopped', actionsLastHour: 6 }));
    assert.equal(world.budgetSpent, 'the budget of 6 automated actions per hour is used up');
    assert.equal(world.stoppedForConfig, true);
  });

  it('passes on who else repairs, and a new config hash', () => {
    const world = worldOf(facts({ repairHolder: { who: 'alice (cli)', what: 'restart main' }, verdict: { valid: false, detail: 'bad', hash: 'abc' } }));
    assert.equal(world.repairBy, 'alice (cli) (restart main)');
    assert.equal(world.config?.hash, 'abc');
  });

  it('holds automated restarts for the first reason that applies, an owner repair before the rest', () => {
    assert.equal(holdOf(facts()), undefined);
    assert.equal(holdOf(facts({ actionsLastHour: 6 })), 'the budget of 6 automated actions per hour is used up');
    assert.match(holdOf(facts({ actionsLastHour: 6, repairHolder: { who: 'rescue-agent', what: 'config restore main' } }))!, /^rescue-agent is running config restore main; lifeguard waits for it$/);
    assert.match(holdOf(facts({ pausedUntil: T + 60_000, pausedBy: 'alice', repairHolder: { who: 'x', what: 'y' } }))!, /^paused by alice until /);
    assert.match(holdOf(facts({ verdict: { valid: false, detail: 'Unrecognized key' } }))!, /config is invalid \(Unrecognized key\)/);
  });
});

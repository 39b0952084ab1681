import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stepIncident } from '../../src/incidents/engine.js';
import type { EngineEffect, EngineSettings, IncidentCore, World } from '../../src/incidents/types.js';
import { engineSettingsFor } from '../helpers/settings.js';

const settings: EngineSettings = engineSettingsFor({ handoffAvailable: true });

const T0 = Date.parse('2026-12-02T21:00:00Z');

function world(at: number, patch: Partial<World> & { state?: World['health']['state']; classification?: World['health']['classification'] } = {}): World {
  const { state = 'down', classification = 'crashed', ...rest } = patch;
  return {
    at,
    instance: 'main',
    health: { state, classification, reason: 'something is wrong' },
    processAlive: false,
    config: { valid: true, detail: 'valid', hash: 'good' },
    configDiffersFromSnapshot: false,
    restoreSource: 'snapshot',
    rescueUsable: true,
    peerDown: false,
    pausedUntil: undefined,
    actionsLastHour: 0,
    ...rest,
  };
}

const acts = (effects: readonly EngineEffect[]) => effects.flatMap((e) => (e.type === 'act' ? [`${e.rung}:${e.action}`] : []));
const notes = (effects: readonly EngineEffect[]) => effects.flatMap((e) => (e.type === 'note' ? [e.text] : []));
const alertTexts = (effects: readonly EngineEffect[]) => effects.flatMap((e) => (e.type === 'alert' ? [e.summary] : []));

function run(worlds: World[], start?: IncidentCore) {
  let incident = start;
  const effects: EngineEffect[] = [];
  for (const w of worlds) {
    const result = stepIncident(incident, w, settings);
    incident = result.incident;
    effects.push(...result.effects);
  }
  return { incident: incident!, effects };
}

const badConfig = (hash: string): Partial<World> & { classification: 'config-invalid' } => ({ config: { valid: false, detail: 'Unrecognized key', hash }, classification: 'config-invalid', configDiffersFromSnapshot: true });

describe('ladder: the owner wins', () => {
  it('takes no step while someone else holds the repair lock, and climbs on once it is free', () => {
    const held = run([world(T0, { repairBy: 'alice (cli) (restart main)' }), world(T0 + 300_000, { repairBy: 'alice (cli) (restart main)' })]);
    assert.equal(held.incident.rung, 'R0');
    assert.deepEqual(acts(held.effects), []);
    const freed = run([world(T0 + 301_000)], held.incident);
    assert.deepEqual(acts(freed.effects), ['R1:restart']);
  });
});

describe('ladder: a spent budget pages at once', () => {
  it('goes to R4 naming the budget while the Gateway is still down', () => {
    const r = run([world(T0, { processAlive: true, classification: 'hung', budgetSpent: 'the budget of 6 automated actions per hour is used up' })]);
    assert.equal(r.incident.rung, 'R4');
    assert.ok(alertTexts(r.effects).some((text) => /needs you .*budget of 6 automated actions per hour is used up/.test(text)));
  });
});

describe('ladder: a rescue that is still starting is coming, not dead', () => {
  const brokenNoSnapshot: Partial<World> = { ...badConfig('bad1'), restoreSource: undefined };

  it('R3 waits for a rescue inside its start-up grace instead of freezing at R4', () => {
    const r = run([world(T0, { ...brokenNoSnapshot, rescueUsable: false, rescueComing: true }), world(T0 + 20_000, { ...brokenNoSnapshot, rescueUsable: false, rescueComing: true })]);
    assert.equal(r.incident.rung, 'R3');
    assert.equal(r.incident.frozen, false);
    const up = run([world(T0 + 24_000, { ...brokenNoSnapshot, rescueUsable: true })], r.incident);
    assert.deepEqual(acts(up.effects), ['R3:handoff']);
  });

  it('an R4 that froze only because the rescue was unavailable hands over once the rescue is healthy', () => {
    const frozen = run([world(T0, { ...brokenNoSnapshot, rescueUsable: false, rescueComing: false })]);
    assert.equal(frozen.incident.rung, 'R4');
    assert.equal(frozen.incident.frozenFor, 'rescue-unavailable');
    const later = run([world(T0 + 60_000, { ...brokenNoSnapshot, rescueUsable: true })], frozen.incident);
    assert.equal(later.incident.rung, 'R3');
    assert.deepEqual(acts(later.effects), ['R3:handoff']);
    assert.ok(notes(later.effects).some((n) => /R4 → R3 .*rescue Gateway is healthy now/.test(n)));
  });

  it('an R4 frozen for another reason stays frozen when the rescue comes up', () => {
    const frozen = run([world(T0, { processAlive: true, classification: 'hung', budgetSpent: 'the budget of 6 automated actions per hour is used up' })]);
    const later = run([world(T0 + 60_000, { processAlive: true, classification: 'hung', rescueUsable: true })], frozen.incident);
    assert.equal(later.incident.rung, 'R4');
    assert.deepEqual(acts(later.effects), []);
  });
});

describe('ladder: a new cause inside an open incident', () => {
  it('restores again when a different bad config appears after R2 repaired one', () => {
    const first = run([world(T0, badConfig('bad1'))]);
    assert.deepEqual(acts(first.effects), ['R2:restore']);
    assert.equal(first.incident.repairedConfigHash, 'bad1');
    // Healthy on the restored config, then inside the resolve window another bad edit and a crash.
    const healthy = run([world(T0 + 30_000, { state: 'healthy', classification: undefined, processAlive: true })], first.incident);
    const second = run([world(T0 + 70_000, badConfig('bad2'))], healthy.incident);
    assert.deepEqual(acts(second.effects), ['R2:restore']);
    assert.ok(notes(second.effects).some((n) => /different bad config/.test(n)));
  });

  it('the same bad config again is not a new cause: the deadline runs on', () => {
    const first = run([world(T0, badConfig('bad1'))]);
    const again = run([world(T0 + 70_000, badConfig('bad1'))], first.incident);
    assert.deepEqual(acts(again.effects), []);
  });
});

describe('ladder: a Gateway lifeguard stopped for its config', () => {
  it('is started again once its config validates, even at R4, and the timeline says so', () => {
    const frozen = run([world(T0, { ...badConfig('bad1'), restoreSource: undefined, rescueUsable: false, stoppedForConfig: true })]);
    assert.equal(frozen.incident.rung, 'R4');
    const fixed = run([world(T0 + 120_000, { classification: 'config-invalid', stoppedForConfig: true, rescueUsable: false, config: { valid: true, detail: 'valid', hash: 'fixed' } })], frozen.incident);
    assert.deepEqual(acts(fixed.effects), ['R4:restart']);
  });

  it('is not started while the config is still invalid, nor during a pause', () => {
    const r = run([world(T0, { ...badConfig('bad1'), restoreSource: undefined, rescueUsable: false, stoppedForConfig: true })]);
    const paused = run([world(T0 + 60_000, { classification: 'config-invalid', stoppedForConfig: true, pausedUntil: T0 + 600_000 })], r.incident);
    assert.deepEqual(acts(paused.effects), []);
  });
});

describe('ladder: a Gateway dying of failed network calls', () => {
  it('is alerted once and left to the detector\'s timed starts: no restart, restore, handoff or freeze, even with the other Gateway down too', () => {
    const network = { classification: 'network' as const };
    const r = run([
      world(T0, network),
      world(T0 + 300_000, { ...network, peerDown: true }),
      world(T0 + 1_800_000, { ...network, peerDown: true, configDiffersFromSnapshot: true }),
    ]);
    assert.deepEqual(acts(r.effects), []);
    assert.equal(r.incident.frozen, false);
    assert.equal(r.incident.rung, 'R0');
    assert.equal(alertTexts(r.effects).length, 1);
    const back = run([world(T0 + 3_700_000, { state: 'healthy', classification: undefined, processAlive: true }), world(T0 + 3_800_000, { state: 'healthy', classification: undefined, processAlive: true })], r.incident);
    assert.equal(back.incident.status, 'resolved');
  });
});

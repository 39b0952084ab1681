import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acknowledge, resolveIncident, stepIncident } from '../../src/incidents/engine.js';
import { grantLease, leaseHeld } from '../../src/incidents/ladder.js';
import type { EngineEffect, EngineSettings, IncidentCore, World } from '../../src/incidents/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { incidentIdFor } from '../../src/incidents/id.js';
import { newRecord } from '../../src/incidents/record.js';
import { createIncident, incidentPath, listIncidents, updateIncident } from '../../src/incidents/store.js';
import { instanceOf, parseChatCommand } from '../../src/chat/parse.js';

const settings: EngineSettings = {
  reminderIntervalMs: 3_600_000,
  resolveAfterMs: 60_000,
  maxActionsPerHour: 6,
  restartAttempts: 2,
  restartDeadlineMs: 240_000,
  restoreAttempts: 1,
  restoreDeadlineMs: 240_000,
  handoffAvailable: false,
  leaseMs: 600_000,
  ackDeadlineMs: 180_000,
};

const T0 = Date.parse('2026-11-25T21:00:00Z');

function world(patch: Partial<World> & { state?: World['health']['state']; classification?: World['health']['classification'] } = {}): World {
  const { state = 'healthy', classification, ...rest } = patch;
  return {
    at: T0,
    instance: 'main',
    health: { state, classification, reason: state === 'healthy' ? 'probes pass' : 'something is wrong' },
    processAlive: true,
    config: { valid: true, detail: 'valid' },
    configDiffersFromSnapshot: false,
    restoreSource: 'snapshot',
    rescueUsable: true,
    peerDown: false,
    pausedUntil: undefined,
    actionsLastHour: 0,
    ...rest,
  };
}

const alerts = (effects: readonly EngineEffect[]) => effects.flatMap((e) => (e.type === 'alert' ? [e.event] : []));
const acts = (effects: readonly EngineEffect[]) => effects.flatMap((e) => (e.type === 'act' ? [`${e.rung}:${e.action}`] : []));

/** Runs a sequence of worlds through the engine, collecting every effect. */
function run(worlds: World[], start?: IncidentCore) {
  let incident = start;
  const effects: EngineEffect[] = [];
  for (const w of worlds) {
    const result = stepIncident(incident, w, settings);
    incident = result.incident;
    effects.push(...result.effects);
  }
  return { incident, effects };
}

describe('incident life cycle', () => {
  it('opens one incident on an outage, alerts once, and resolves after a stable recovery', () => {
    const { incident, effects } = run([
      world({ state: 'down', classification: 'crashed' }),
      world({ at: T0 + 100, state: 'recovering', classification: 'crashed' }),
      world({ at: T0 + 15_000, state: 'healthy' }),
      world({ at: T0 + 45_000, state: 'healthy' }),
      world({ at: T0 + 75_000, state: 'healthy' }),
    ]);
    assert.deepEqual(alerts(effects), ['down', 'resolved']);
    assert.equal(incident?.status, 'resolved');
    assert.equal(incident?.id, 'main-20261125-210000Z');
  });

  it('treats a relapse before the resolve window as the same incident, without a second down alert', () => {
    const { incident, effects } = run([
      world({ state: 'down', classification: 'crashed' }),
      world({ at: T0 + 10_000, state: 'healthy' }),
      world({ at: T0 + 30_000, state: 'down', classification: 'crashed' }),
      world({ at: T0 + 40_000, state: 'healthy' }),
      world({ at: T0 + 90_000, state: 'healthy' }),
      world({ at: T0 + 101_000, state: 'healthy' }),
    ]);
    assert.deepEqual(alerts(effects), ['down', 'resolved']);
    assert.equal(incident?.resolvedAt, T0 + 101_000);
  });

  it('does not open an incident for an operator stop or a suspect probe', () => {
    assert.equal(run([world({ state: 'down', classification: 'stopped' }), world({ state: 'suspect' })]).incident, undefined);
  });

  it('alerts config-invalid while the Gateway still runs, without touching it (R0)', () => {
    const { incident, effects } = run([world({ config: { valid: false, detail: 'JSON5: invalid character at 3:7' } })]);
    assert.deepEqual(alerts(effects), ['config-invalid']);
    assert.deepEqual(acts(effects), []);
    assert.equal(incident?.rung, 'R0');
    assert.equal(incident?.problem, 'config-invalid');
  });

  it('upgrades a degraded incident to down with one more alert, same id', () => {
    const { incident, effects } = run([
      world({ state: 'degraded' }),
      world({ at: T0 + 5_000, state: 'down', classification: 'hung' }),
    ]);
    assert.deepEqual(alerts(effects), ['degraded', 'down']);
    assert.equal(incident?.id, 'main-20261125-210000Z');
    assert.equal(incident?.severity, 'critical');
  });

  it('tells the owner the Gateway is back while its config is still invalid, and keeps the incident open', () => {
    const bad = { valid: false as const, detail: 'unknown key' };
    const { incident, effects } = run([
      world({ state: 'down', classification: 'crashed', config: bad, restoreSource: undefined }),
      world({ at: T0 + 200_000, state: 'healthy', config: bad }),
      world({ at: T0 + 400_000, state: 'healthy', config: bad }),
    ]);
    assert.ok(alerts(effects).includes('recovered'));
    assert.equal(incident?.status, 'open');
    assert.equal(incident?.problem, 'config-invalid');
  });

  it('a restarted Gateway that answers before it is ready continues the incident without an alert', () => {
    const { incident, effects } = run([
      world({ state: 'down', classification: 'crashed' }),
      world({ at: T0 + 10_000, state: 'degraded' }),
      world({ at: T0 + 20_000, state: 'healthy' }),
      world({ at: T0 + 81_000, state: 'healthy' }),
    ]);
    assert.deepEqual(alerts(effects), ['down', 'resolved']);
    assert.equal(incident?.status, 'resolved');
  });

  it('reminds at the interval until acknowledged', () => {
    // A config the running Gateway refused: the incident stays open at R0 until someone fixes it.
    const broken = (at: number) => world({ at, config: { valid: false, detail: 'unknown key' } });
    let { incident, effects } = run([broken(T0), broken(T0 + 3_600_000), broken(T0 + 3_700_000)]);
    assert.deepEqual(alerts(effects).filter((e) => e === 'reminder'), ['reminder']);
    const acked = acknowledge(incident!, 'owner', T0 + 3_800_000);
    ({ incident, effects } = run([broken(T0 + 9_000_000)], acked.incident));
    assert.deepEqual(alerts(effects).filter((e) => e === 'reminder'), []);
    assert.deepEqual(incident?.ack, { by: 'owner', at: T0 + 3_800_000 });
  });

  it('stays silent while paused and takes no action', () => {
    const { incident, effects } = run([world({ state: 'down', classification: 'crashed', processAlive: false, pausedUntil: T0 + 600_000 })]);
    assert.equal(incident, undefined);
    assert.deepEqual(effects, []);
  });

  it('gives the n-th alert of a kind the same sequence number after a replay (idempotency)', () => {
    const first = stepIncident(undefined, world({ state: 'down', classification: 'crashed' }), settings);
    const replay = stepIncident(undefined, world({ state: 'down', classification: 'crashed' }), settings);
    assert.deepEqual(first.effects, replay.effects);
    assert.equal(first.incident?.id, replay.incident?.id);
  });

  it('resolves at once when an operator resolves it', () => {
    const { incident } = run([world({ state: 'down', classification: 'hung' })]);
    const resolved = resolveIncident(incident!, 'owner', T0 + 1_000);
    assert.equal(resolved.incident?.status, 'resolved');
    assert.deepEqual(alerts(resolved.effects), ['resolved']);
  });
});

describe('escalation ladder', () => {
  const cases: Array<{ name: string; worlds: World[]; acts: string[]; rung: string; frozen?: boolean; alerts?: string[] }> = [
    {
      name: 'a crash PM2 restarts by itself stays at R1 with no action of ours',
      worlds: [world({ state: 'down', classification: 'crashed', processAlive: true })],
      acts: [], rung: 'R1',
    },
    {
      name: 'a crash PM2 will not restart (errored) is restarted, within the R1 budget',
      worlds: [
        world({ state: 'down', classification: 'crashed', processAlive: false }),
        world({ at: T0 + 1_000, state: 'down', classification: 'crashed', processAlive: false }),
      ],
      acts: ['R1:restart', 'R1:restart'], rung: 'R1',
    },
    {
      name: 'a crash on an invalid config goes R1 then R2 and restores',
      worlds: [
        world({ state: 'down', classification: 'crashed', config: { valid: false, detail: 'syntax' } }),
      ],
      acts: ['R2:restore'], rung: 'R2', alerts: ['down', 'escalated'],
    },
    {
      name: 'a config-invalid exit restores when a snapshot exists',
      worlds: [world({ state: 'down', classification: 'config-invalid', processAlive: false })],
      acts: ['R2:restore'], rung: 'R2',
    },
    {
      name: 'a crash loop on a config identical to the snapshot skips R2 and pages (R3 not available)',
      worlds: [world({ state: 'down', classification: 'crash-looping', processAlive: false, configDiffersFromSnapshot: false })],
      acts: [], rung: 'R4', frozen: true, alerts: ['down', 'escalated'],
    },
    {
      name: 'a crash loop on a config that differs from the snapshot restores it',
      worlds: [world({ state: 'down', classification: 'crash-looping', processAlive: false, configDiffersFromSnapshot: true })],
      acts: ['R2:restore'], rung: 'R2',
    },
    {
      name: 'no snapshot: R2 is skipped and a human is paged',
      worlds: [world({ state: 'down', classification: 'config-invalid', processAlive: false, restoreSource: undefined })],
      acts: [], rung: 'R4', frozen: true,
    },
    {
      name: 'main and rescue down together go straight to R4',
      worlds: [world({ state: 'down', classification: 'crashed', processAlive: false, peerDown: true })],
      acts: [], rung: 'R4', frozen: true,
    },
    {
      name: 'the global action budget used up pages instead of acting',
      worlds: [world({ state: 'down', classification: 'config-invalid', processAlive: false, actionsLastHour: 6 })],
      acts: [], rung: 'R4', frozen: true,
    },
    {
      name: 'a restore that does not bring it back within its deadline escalates to R4',
      worlds: [
        world({ state: 'down', classification: 'config-invalid', processAlive: false }),
        world({ at: T0 + 100_000, state: 'recovering', classification: 'config-invalid' }),
        world({ at: T0 + 250_000, state: 'down', classification: 'crashed', processAlive: false, config: { valid: true, detail: 'valid' } }),
      ],
      acts: ['R2:restore'], rung: 'R4', frozen: true,
    },
    {
      name: 'a hang that is not back within the R1 deadline and has a valid, unchanged config pages',
      worlds: [
        world({ state: 'down', classification: 'hung' }),
        world({ at: T0 + 240_000, state: 'down', classification: 'hung' }),
      ],
      acts: [], rung: 'R4', frozen: true,
    },
    {
      name: 'a frozen incident takes no further action',
      worlds: [
        world({ state: 'down', classification: 'crash-looping', processAlive: false }),
        world({ at: T0 + 1_000, state: 'down', classification: 'config-invalid', processAlive: false, config: { valid: false, detail: 'x' } }),
      ],
      acts: [], rung: 'R4', frozen: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { incident, effects } = run(c.worlds);
      assert.deepEqual(acts(effects), c.acts);
      assert.equal(incident?.rung, c.rung);
      assert.equal(incident?.frozen, c.frozen ?? false);
      if (c.alerts) assert.deepEqual(alerts(effects), c.alerts);
    });
  }

  it('after an ack, a frozen incident can be acted on again by hand but the ladder never climbs back down', () => {
    const { incident } = run([world({ state: 'down', classification: 'crash-looping', processAlive: false })]);
    const acked = acknowledge(incident!, 'owner', T0 + 1_000);
    assert.equal(acked.incident?.frozen, false);
    const later = run([world({ at: T0 + 2_000, state: 'down', classification: 'crash-looping', processAlive: false })], acked.incident);
    assert.equal(later.incident?.rung, 'R4');
    assert.deepEqual(acts(later.effects), []);
  });
});

describe('R3: the handoff to the rescue bot', () => {
  const withHandoff: EngineSettings = { ...settings, handoffAvailable: true };
  const crashLoop = (at: number, patch: Partial<World> = {}) =>
    world({ at, state: 'down', classification: 'crash-looping', processAlive: false, configDiffersFromSnapshot: false, ...patch });
  const steps = (worlds: World[], start?: IncidentCore) => {
    let incident = start;
    const effects: EngineEffect[] = [];
    for (const w of worlds) {
      const r = stepIncident(incident, w, withHandoff);
      incident = r.incident;
      effects.push(...r.effects);
    }
    return { incident, effects };
  };

  it('hands over when R2 cannot help and the rescue is usable, and fences the main for the lease', () => {
    const { incident, effects } = steps([crashLoop(T0)]);
    assert.deepEqual(acts(effects), ['R3:handoff']);
    assert.deepEqual(alerts(effects), ['down', 'escalated']);
    const leased = grantLease(incident!, T0 + 1_000, withHandoff);
    assert.equal(leaseHeld(leased, T0 + 2_000), true);
    assert.equal(leaseHeld(leased, T0 + 1_000 + 600_000), false);
    const waiting = steps([crashLoop(T0 + 60_000)], leased);
    assert.deepEqual(acts(waiting.effects), [], 'nothing more while the rescue holds the lease');
    assert.equal(waiting.incident?.rung, 'R3');
  });

  it('pages the owner when the rescue does not acknowledge in time', () => {
    const leased = grantLease(steps([crashLoop(T0)]).incident!, T0, withHandoff);
    const late = steps([crashLoop(T0 + 180_000)], leased);
    assert.equal(late.incident?.rung, 'R4');
    assert.equal(late.incident?.frozen, true);
    assert.ok(late.effects.some((e) => e.type === 'note' && /did not acknowledge within 180 s/.test(e.text)));
  });

  it('an ack from the rescue keeps the lease until it runs out, then pages', () => {
    const leased = grantLease(steps([crashLoop(T0)]).incident!, T0, withHandoff);
    const acked = acknowledge(leased, 'rescue-agent', T0 + 30_000).incident!;
    assert.equal(acked.lease?.ackedAt, T0 + 30_000);
    assert.equal(steps([crashLoop(T0 + 300_000)], acked).incident?.rung, 'R3');
    const expired = steps([crashLoop(T0 + 600_000)], acked);
    assert.equal(expired.incident?.rung, 'R4');
    assert.ok(expired.effects.some((e) => e.type === 'note' && /lease of 10 min ran out/.test(e.text)));
  });

  it('after the rescue acked its lease and the lease ran out, the owner\'s ack still unfreezes R4', () => {
    const leased = grantLease(steps([crashLoop(T0)]).incident!, T0, withHandoff);
    const rescueAck = acknowledge(leased, 'rescue-agent', T0 + 10_000).incident!;
    const frozen = steps([crashLoop(T0 + 600_000)], rescueAck).incident!;
    assert.equal(frozen.frozen, true);
    const owner = acknowledge(frozen, 'owner', T0 + 700_000);
    assert.equal(owner.incident?.frozen, false);
    assert.equal(owner.incident?.ack?.by, 'owner');
    assert.deepEqual(acknowledge(owner.incident!, 'owner', T0 + 800_000).effects, [], 'nothing left to do: no change');
  });

  it('a rescue that is down too, or a failed handoff, goes to R4', () => {
    assert.equal(steps([crashLoop(T0, { rescueUsable: false })]).incident?.rung, 'R4');
    const started = steps([crashLoop(T0)]).incident!;
    const failed = steps([crashLoop(T0 + 1_000)], { ...started, handoffError: 'the rescue workspace /x is not writable' });
    assert.equal(failed.incident?.rung, 'R4');
  });

  it('the main healthy again resolves the incident and ends the lease', () => {
    const leased = grantLease(steps([crashLoop(T0)]).incident!, T0, withHandoff);
    const back = steps([world({ at: T0 + 100_000 }), world({ at: T0 + 170_000 })], leased);
    assert.equal(back.incident?.status, 'resolved');
    assert.equal(leaseHeld(back.incident, T0 + 170_001), false);
  });
});

describe('where R2 takes a good config from', () => {
  it('lifeguard\'s snapshot first, OpenClaw\'s own copy only without one, nothing when neither exists', async () => {
    const { restoreSourceFor } = await import('../../src/daemon/world.js');
    assert.equal(restoreSourceFor(true, true), 'snapshot');
    assert.equal(restoreSourceFor(true, false), 'snapshot');
    assert.equal(restoreSourceFor(false, true), 'gateway');
    assert.equal(restoreSourceFor(false, false), undefined);
  });
});

describe('incident ids', () => {
  it("a deaf channel's incident (rescue.telegram-…) is stored, updated and listed like a Gateway's, and the phone can name it", async () => {
    const home = mkdtempSync(join(tmpdir(), 'lifeguard-ids-'));
    try {
      const id = incidentIdFor('rescue.telegram', T0);
      assert.equal(id, 'rescue.telegram-20261125-210000Z');
      const core: IncidentCore = {
        id, instance: 'rescue.telegram', status: 'open', openedAt: T0, problem: 'degraded', classification: undefined, severity: 'warning',
        summary: 'the rescue bot cannot hear you on telegram', rung: 'R0', rungSince: T0, attempts: { R0: 0, R1: 0, R2: 0, R3: 0, R4: 0 },
        frozen: false, ack: undefined, recoveredAt: undefined, resolvedAt: undefined, lastAlertAt: T0, alertCounts: { degraded: 1 },
      };
      await createIncident(home, newRecord(core, '/nowhere/openclaw.json'));
      await updateIncident(home, id, (r) => ({ ...r, status: 'resolved' }));
      assert.deepEqual((await listIncidents(home)).map((r) => [r.id, r.status]), [[id, 'resolved']]);
      const parsed = parseChatCommand(`ack RESCUE.TELEGRAM-20261125-210000z`);
      assert.deepEqual(parsed.ok && parsed.request, { kind: 'ack', id });
      assert.equal(parsed.ok && instanceOf(parsed.request), 'rescue');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('anything else is refused before it reaches the file system', () => {
    for (const bad of ['../main-20261125-210000Z', 'main-20261125-210000Z/..', 'main.-20261125-210000Z', 'main-2026-1', 'other-20261125-210000Z']) {
      assert.equal(parseChatCommand(`incident ${bad}`).ok, false, bad);
    }
    assert.throws(() => incidentPath('/home', '../../etc/passwd'), /is not an incident id/);
    assert.throws(() => incidentPath('/home', 'main.tele-gram-20261125-210000Z'), /is not an incident id/);
  });
});

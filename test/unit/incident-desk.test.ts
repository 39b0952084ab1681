import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/core/log.js';
import { IncidentDesk, type ActionOutcome } from '../../src/daemon/incident-desk.js';
import { readIncident } from '../../src/incidents/store.js';
import type { EngineSettings, IncidentAction, World } from '../../src/incidents/types.js';
import type { Alert } from '../../src/notify/types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { engineSettingsFor } from '../helpers/settings.js';

const settings: EngineSettings = engineSettingsFor({ handoffAvailable: true });

/** A desk on a fake clock, whose world is whatever the test says it is now. */
function deskWith(world: (at: number) => Partial<World>, act: (action: IncidentAction) => ActionOutcome = () => ({ ok: true, detail: 'done' })) {
  const home = tempDir('lg-desk-');
  let clock = Date.parse('2026-12-02T21:00:00Z');
  const alerts: Alert[] = [];
  const actions: IncidentAction[] = [];
  const desk: IncidentDesk = new IncidentDesk({
    home, host: 'test', settings, log: createLogger({ level: 'silent' }), now: () => clock,
    enqueue: async (alert) => void alerts.push(alert),
    configPathOf: () => '/x/openclaw.json',
    world: async (instance, health): Promise<World> => ({
      at: clock, instance, health: health ?? { state: 'healthy', classification: undefined, reason: 'probes pass' },
      processAlive: false, config: { valid: true, detail: 'valid' }, configDiffersFromSnapshot: false, restoreSource: 'snapshot',
      rescueUsable: true, peerDown: false, pausedUntil: undefined, actionsLastHour: desk.actionsLastHour(clock), ...world(clock),
    }),
    act: async (_instance, action) => {
      actions.push(action);
      return act(action);
    },
  });
  return { home, desk, alerts, actions, advance: (ms: number) => { clock += ms; }, now: () => clock };
}

describe('IncidentDesk', () => {
  it('turns an outage into one incident with one alert, carries out R1, and resolves after a stable recovery', async () => {
    let state: World['health'] = { state: 'down', classification: 'crashed', reason: 'exited with code 1' };
    const d = deskWith(() => ({ health: state }));
    await d.desk.load(['main']);
    await d.desk.observe('main');
    const id = d.desk.current('main')!.id;
    assert.deepEqual(d.alerts.map((a) => a.event), ['down']);
    assert.deepEqual(d.actions, ['restart']);
    state = { state: 'healthy', classification: undefined, reason: 'probes pass' };
    d.advance(10_000);
    await d.desk.observe('main');
    d.advance(61_000);
    await d.desk.observe('main');
    assert.equal(d.desk.current('main'), undefined);
    assert.deepEqual(d.alerts.map((a) => a.event), ['down', 'resolved']);
    const record = await readIncident(d.home, id);
    assert.equal(record?.status, 'resolved');
    assert.equal(record?.actions[0]?.status, 'succeeded');
  });

  it('counts its own actions against the hourly budget with the injected clock, and forgets them after an hour', async () => {
    const d = deskWith(() => ({}));
    d.desk.countAction(d.now());
    d.desk.countAction(d.now());
    assert.equal(d.desk.actionsLastHour(d.now()), 2);
    d.advance(3_600_001);
    assert.equal(d.desk.actionsLastHour(d.now()), 0);
  });

  it('takes no ladder step while an owner repair holds the lock, then goes on', async () => {
    let repairBy: string | undefined = 'alice (cli) (restart main)';
    const d = deskWith(() => ({ health: { state: 'down', classification: 'crashed', reason: 'exited' }, repairBy }));
    await d.desk.observe('main');
    assert.deepEqual(d.actions, []);
    repairBy = undefined;
    d.advance(2_000);
    await d.desk.observe('main');
    assert.deepEqual(d.actions, ['restart']);
  });
});

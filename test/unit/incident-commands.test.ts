import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stepIncident } from '../../src/incidents/engine.js';
import { applyStep, newRecord, type IncidentRecord } from '../../src/incidents/record.js';
import { createIncident } from '../../src/incidents/store.js';
import type { EngineSettings, World } from '../../src/incidents/types.js';
import { buildDigest } from '../../src/incidents/digest.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const settings: EngineSettings = {
  reminderIntervalMs: 3_600_000, resolveAfterMs: 60_000, maxActionsPerHour: 6, restartAttempts: 2,
  restartDeadlineMs: 240_000, restoreAttempts: 1, restoreDeadlineMs: 240_000, handoffAvailable: false,
  leaseMs: 600_000,
  ackDeadlineMs: 180_000,
};

/** An incident frozen at R4: a crash loop with nothing to restore. */
function frozenIncident(at: number): IncidentRecord {
  const world: World = {
    at, instance: 'main', health: { state: 'down', classification: 'crash-looping', reason: '5 exits within 10 min' },
    processAlive: false, config: { valid: true, detail: 'valid' }, configDiffersFromSnapshot: false, restoreSource: undefined,
    rescueUsable: true, peerDown: false, pausedUntil: undefined, actionsLastHour: 0,
  };
  const { incident, effects } = stepIncident(undefined, world, settings);
  return applyStep(newRecord(incident!, '/x/openclaw.json'), incident!, effects, at, 'test').record;
}

describe('incident, pause and resume commands', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'lg-cmd-'));
    const config = join(home, 'lifeguard.json5');
    writeFileSync(config, `{ notify: [{ type: 'webhook', name: 'hook', url: 'http://127.0.0.1:9/never' }] }\n`);
    env = { PATH: process.env.PATH, HOME: home, LIFEGUARD_HOME: home, LIFEGUARD_CONFIG: config, USER: 'tester' };
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('ack unfreezes an R4 incident and records who; a second ack changes nothing', async () => {
    const record = frozenIncident(Date.parse('2026-11-25T21:00:00Z'));
    assert.equal(record.frozen, true);
    await createIncident(home, record);
    const acked = cli('incident', 'ack', record.id, '--by', 'owner', '--json');
    assert.equal(acked.status, 0, acked.stderr);
    assert.deepEqual(JSON.parse(acked.stdout).frozen, false);
    const stored = JSON.parse(readFileSync(join(home, 'incidents', `${record.id}.json`), 'utf8')) as IncidentRecord;
    assert.equal(stored.ack?.by, 'owner');
    assert.ok(stored.timeline.some((e) => e.text === 'acknowledged by owner; automation resumes'));
    const again = cli('incident', 'ack', record.id);
    assert.match(again.stdout, /already acknowledged; nothing changed/);
  });

  it('resolve closes it and queues the resolved alert in the outbox for the supervisor to send', () => {
    const id = 'main-20261125-210000Z';
    const resolved = cli('incident', 'resolve', id, '--json');
    assert.equal(resolved.status, 0, resolved.stderr);
    assert.deepEqual(JSON.parse(resolved.stdout).alerts, ['resolved']);
    assert.deepEqual(readdirSync(join(home, 'outbox', 'pending')), [`${id}.resolved.1~hook.json`]);
    const listed = cli('incidents');
    assert.match(listed.stdout, new RegExp(`${id}\\s+resolved`));
  });

  it('refuses ids that are not incident ids or do not exist, with what to run instead', () => {
    for (const id of ['../etc/passwd', 'main-2026', 'a/b']) {
      const shown = cli('incident', 'show', id);
      assert.equal(shown.status, 2);
      assert.match(shown.stderr, /not an incident id.*lifeguard incidents/);
    }
    const missing = cli('incident', 'show', 'main-20991231-000000Z');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no incident main-20991231-000000Z/);
  });

  it('pause takes a bounded duration and resume lifts it', () => {
    assert.match(cli('pause', 'main', '--for', '30s').stderr, /between 1m and 7d/);
    assert.match(cli('pause', 'main', '--for', 'ten minutes').stderr, /not a duration/);
    assert.match(cli('pause', 'backup', '--for', '10m').stderr, /unknown instance "backup"/);
    const paused = cli('pause', 'main', '--for', '1h30m', '--json');
    assert.equal(paused.status, 0, paused.stderr);
    const until = Date.parse(JSON.parse(paused.stdout).pausedUntil);
    assert.ok(Math.abs(until - Date.now() - 90 * 60_000) < 60_000);
    assert.match(cli('resume', 'main').stdout, /resumed/);
    assert.match(cli('resume', 'main').stdout, /was not paused/);
  });
});

describe('daily digest', () => {
  it('reports each instance: share of the day without incident, incidents and restarts', () => {
    const at = Date.parse('2026-11-25T09:00:00Z');
    const record = { ...frozenIncident(at - 2 * 3_600_000), status: 'resolved' as const, resolvedAt: at - 3_600_000 };
    const digest = buildDigest({
      at, host: 'box', instances: ['main', 'rescue'], incidents: [record],
      journal: [{ ts: new Date(at - 7_000_000).toISOString(), instance: 'main', from: 'down', to: 'recovering', reason: 'x' }],
    });
    assert.equal(digest.event, 'digest');
    assert.equal(digest.idempotencyKey, 'digest-box-2026-11-25');
    assert.match(digest.details.main!, /^95\.83% without incident, 1 incident\(s\), 1 restart\(s\)$/);
    assert.match(digest.details.rescue!, /^100\.00% without incident, 0 incident\(s\), 0 restart\(s\)$/);
  });
});

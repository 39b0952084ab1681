import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryExpired, incidentExpired, rotationSteps } from '../../src/housekeeping/policy.js';
import { runHousekeeping } from '../../src/housekeeping/run.js';

const DAY = 86_400_000;
const now = 1_800_000_000_000;
const settings = { schedule: '*/10 * * * *', logMaxBytes: 100, journalMaxBytes: 50, keep: 2, retentionMs: 30 * DAY };

describe('housekeeping policy', () => {
  it('rotates a file only past its size, shifting the kept ones and dropping the oldest', () => {
    assert.deepEqual(rotationSteps('/l/a.log', 100, 100, 3, new Set()), []);
    assert.deepEqual(rotationSteps('/l/a.log', undefined, 100, 3, new Set()), []);
    assert.deepEqual(rotationSteps('/l/a.log', 101, 100, 3, new Set(['/l/a.log.1', '/l/a.log.3'])), [
      { from: '/l/a.log.3', to: null },
      { from: '/l/a.log.1', to: '/l/a.log.2' },
      { from: '/l/a.log', to: '/l/a.log.1' },
    ]);
  });

  it('keeps open incidents whatever their age, and resolved ones until the retention has passed', () => {
    assert.equal(incidentExpired({ status: 'open', openedAt: now - 400 * DAY }, now, 30 * DAY), false);
    assert.equal(incidentExpired({ status: 'resolved', openedAt: now - 40 * DAY, resolvedAt: now - 29 * DAY }, now, 30 * DAY), false);
    assert.equal(incidentExpired({ status: 'resolved', openedAt: now - 40 * DAY, resolvedAt: now - 31 * DAY }, now, 30 * DAY), true);
    assert.equal(deliveryExpired({ createdAt: now - 40 * DAY, settledAt: now - 29 * DAY }, now, 30 * DAY), false);
    assert.equal(deliveryExpired({ createdAt: now - 40 * DAY }, now, 30 * DAY), true);
  });
});

describe('a housekeeping run', () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'lg-hk-'));
    mkdirSync(join(home, 'logs'));
    mkdirSync(join(home, 'incidents'));
    mkdirSync(join(home, 'outbox', 'done'), { recursive: true });
    mkdirSync(join(home, 'outbox', 'pending'), { recursive: true });
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('rotates big logs and events.jsonl, prunes old records, moves unreadable ones aside, and asks PM2 to reopen its logs', async () => {
    const big = join(home, 'logs', 'gateway-main.out.log');
    const small = join(home, 'logs', 'gateway-main.err.log');
    writeFileSync(big, 'x'.repeat(200));
    writeFileSync(`${big}.1`, 'older');
    writeFileSync(`${big}.2`, 'oldest');
    writeFileSync(small, 'y');
    writeFileSync(join(home, 'events.jsonl'), `${'{"a":1}\n'.repeat(10)}`);
    const incident = (id: string, status: string, resolvedAt?: number) => writeFileSync(join(home, 'incidents', `${id}.json`), JSON.stringify({ id, status, openedAt: now - 100 * DAY, resolvedAt }));
    incident('main-20260101-000000Z', 'resolved', now - 60 * DAY);
    incident('main-20260601-000000Z', 'resolved', now - DAY);
    incident('main-20250101-000000Z', 'open');
    writeFileSync(join(home, 'incidents', 'main-20260701-000000Z.json'), '{"id": "main-2026');
    writeFileSync(join(home, 'outbox', 'done', 'old~hook.json'), JSON.stringify({ id: 'old~hook', createdAt: now - 90 * DAY, settledAt: now - 89 * DAY }));
    writeFileSync(join(home, 'outbox', 'done', 'new~hook.json'), JSON.stringify({ id: 'new~hook', createdAt: now - DAY, settledAt: now - DAY }));
    writeFileSync(join(home, 'outbox', 'pending', 'cut~hook.json'), '{');
    let reopened = 0;

    const report = await runHousekeeping({ home, settings, pm2Logs: [big, small], reopenPm2Logs: async () => { reopened += 1; }, now });

    assert.deepEqual(report.rotated, [big, join(home, 'events.jsonl')]);
    assert.equal(reopened, 1);
    assert.equal(existsSync(big), false, 'PM2 creates it anew when it reopens its logs');
    assert.equal(readFileSync(`${big}.1`, 'utf8'), 'x'.repeat(200));
    assert.equal(readFileSync(`${big}.2`, 'utf8'), 'older');
    assert.equal(readFileSync(small, 'utf8'), 'y');
    assert.equal(existsSync(join(home, 'events.jsonl.1')), true);
    assert.equal(report.prunedIncidents, 1);
    assert.deepEqual(readdirSync(join(home, 'incidents')).sort(), ['main-20250101-000000Z.json', 'main-20260601-000000Z.json', 'unreadable']);
    assert.deepEqual(readdirSync(join(home, 'incidents', 'unreadable')), ['main-20260701-000000Z.json']);
    assert.equal(report.prunedDeliveries, 1);
    assert.deepEqual(readdirSync(join(home, 'outbox', 'done')), ['new~hook.json']);
    assert.deepEqual(report.movedAside.map((file) => file.slice(home.length)).sort(), ['/incidents/unreadable/main-20260701-000000Z.json', '/outbox/pending/unreadable/cut~hook.json']);

    const again = await runHousekeeping({ home, settings, pm2Logs: [big, small], reopenPm2Logs: async () => { reopened += 1; }, now });
    assert.deepEqual(again, { rotated: [], prunedIncidents: 0, prunedDeliveries: 0, movedAside: [] });
    assert.equal(reopened, 1, 'nothing rotated, PM2 left alone');
  });
});

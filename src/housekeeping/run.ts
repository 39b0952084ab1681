import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { HousekeepingSettings } from '../config/schema.js';
import type { IncidentRecord } from '../incidents/record.js';
import { incidentsDir } from '../incidents/store.js';
import type { Delivery } from '../notify/outbox.js';
import { journalPath } from '../surfaces/journal.js';
import { deliveryExpired, incidentExpired, rotationSteps } from './policy.js';
import { moveAside, removeFiles, scanRecords } from './records.js';

export interface HousekeepingReport {
  readonly rotated: string[];
  readonly prunedIncidents: number;
  readonly prunedDeliveries: number;
  /** Unreadable records moved aside this run (they are kept, never deleted). */
  readonly movedAside: string[];
}

export interface HousekeepingContext {
  readonly home: string;
  readonly settings: HousekeepingSettings;
  /** The PM2 log files of lifeguard's apps (see logFilesOf). */
  readonly pm2Logs: readonly string[];
  /** Makes PM2 reopen its log files after they were renamed (`pm2 reloadLogs`). */
  readonly reopenPm2Logs: () => Promise<void>;
  readonly now: number;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}

async function rotate(path: string, maxBytes: number, keep: number): Promise<boolean> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const existing = new Set((await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(prefix)).map((name) => join(dir, name)));
  const steps = rotationSteps(path, await sizeOf(path), maxBytes, keep, existing);
  for (const step of steps) {
    if (step.to === null) await rm(step.from, { force: true });
    else await rename(step.from, step.to);
  }
  return steps.length > 0;
}

/**
 * One housekeeping run: rotates the PM2 logs (renamed, then PM2 reopens them: no line is lost, unlike
 * copy-and-truncate) and events.jsonl (appended with open-append-close, so a rename is enough), deletes
 * resolved incidents and settled deliveries past the retention, and moves unreadable records aside.
 */
export async function runHousekeeping(ctx: HousekeepingContext): Promise<HousekeepingReport> {
  const { settings, now } = ctx;
  const rotated: string[] = [];
  for (const log of ctx.pm2Logs) if (await rotate(log, settings.logMaxBytes, settings.keep)) rotated.push(log);
  if (rotated.length > 0) await ctx.reopenPm2Logs();
  const journal = journalPath(ctx.home);
  if (await rotate(journal, settings.journalMaxBytes, settings.keep)) rotated.push(journal);

  const incidents = await scanRecords<IncidentRecord>(incidentsDir(ctx.home));
  const oldIncidents = incidents.records.filter(({ record }) => incidentExpired(record, now, settings.retentionMs)).map(({ file }) => file);
  await removeFiles(oldIncidents);
  const doneDir = join(ctx.home, 'outbox', 'done');
  const done = await scanRecords<Delivery>(doneDir);
  const oldDeliveries = done.records.filter(({ record }) => deliveryExpired(record, now, settings.retentionMs)).map(({ file }) => file);
  await removeFiles(oldDeliveries);
  const pendingDir = join(ctx.home, 'outbox', 'pending');
  const pending = await scanRecords<Delivery>(pendingDir);
  const movedAside = [
    ...await moveAside(incidentsDir(ctx.home), incidents.unreadable),
    ...await moveAside(doneDir, done.unreadable),
    ...await moveAside(pendingDir, pending.unreadable),
  ];
  return { rotated, prunedIncidents: oldIncidents.length, prunedDeliveries: oldDeliveries.length, movedAside };
}

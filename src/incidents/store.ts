import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { UserError } from '../core/errors.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { redactStrings } from '../secrets/redact.js';
import type { IncidentRecord } from './record.js';
import { INCIDENT_ID_EXAMPLE, isIncidentId } from './id.js';
import { ownerCommand } from '../core/command-line.js';


export function incidentsDir(home: string): string {
  return join(home, 'incidents');
}

/** Refuses anything that is not an incident id (a path, `..`, a typo) before it reaches the file system. */
export function incidentPath(home: string, id: string): string {
  if (!isIncidentId(id)) {
    throw new UserError(`"${id}" is not an incident id (they look like ${INCIDENT_ID_EXAMPLE}); list them with: ${ownerCommand('incidents')}`, 2);
  }
  return join(incidentsDir(home), `${id}.json`);
}

export async function readIncident(home: string, id: string): Promise<IncidentRecord | undefined> {
  const text = await readTextIfExists(incidentPath(home, id));
  return text === undefined ? undefined : (JSON.parse(text) as IncidentRecord);
}

export async function requireIncident(home: string, id: string): Promise<IncidentRecord> {
  const record = await readIncident(home, id);
  if (!record) throw new UserError(`no incident ${id}; list them with: ${ownerCommand('incidents')}`, 2);
  return record;
}

/** Ids newest first (they sort by time within an instance; the time part decides across instances). */
export async function listIncidentIds(home: string): Promise<string[]> {
  const names = await readdir(incidentsDir(home)).catch(() => [] as string[]);
  const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter(isIncidentId);
  const timeOf = (id: string) => id.slice(id.indexOf('-') + 1);
  return ids.sort((a, b) => timeOf(b).localeCompare(timeOf(a)));
}

export async function listIncidents(home: string, limit = Infinity): Promise<IncidentRecord[]> {
  const records: IncidentRecord[] = [];
  for (const id of await listIncidentIds(home)) {
    if (records.length >= limit) break;
    const record = await readIncident(home, id).catch(() => undefined);
    if (record) records.push(record);
  }
  return records;
}

export async function findOpenIncident(home: string, instance: string): Promise<IncidentRecord | undefined> {
  for (const id of await listIncidentIds(home)) {
    if (!id.startsWith(`${instance}-`)) continue;
    const record = await readIncident(home, id).catch(() => undefined);
    if (record?.status === 'open') return record;
  }
  return undefined;
}

export async function createIncident(home: string, record: IncidentRecord): Promise<void> {
  await writeFileAtomically(incidentPath(home, record.id), `${JSON.stringify(redactStrings(record), null, 2)}\n`);
}

/**
 * Read-modify-write of one record under a lock, so the supervisor and a CLI command (ack, resolve)
 * never lose each other's changes. `change` returns undefined to leave the record as it is.
 */
export async function updateIncident(
  home: string, id: string, change: (record: IncidentRecord) => IncidentRecord | undefined | Promise<IncidentRecord | undefined>,
): Promise<IncidentRecord> {
  const path = incidentPath(home, id);
  // An unknown id is a clear "no incident", not a lock error on a file that is not there.
  await requireIncident(home, id);
  const release = await lockfile.lock(path, { retries: { retries: 50, minTimeout: 20, maxTimeout: 200 }, stale: 15_000, realpath: false });
  try {
    const current = await requireIncident(home, id);
    const next = await change(current);
    if (next === undefined) return current;
    await writeFileAtomically(path, `${JSON.stringify(redactStrings(next), null, 2)}\n`);
    return next;
  } finally {
    await release();
  }
}

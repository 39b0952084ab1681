import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import type { Alert } from '../notify/types.js';

/** What `lifeguard run` leaves in `state/run.json` while it runs, and how it ended. */
export interface RunRecord {
  readonly pid: number;
  /** The PM2 it runs in the foreground (pm2-runtime), whose pid is also PM2's pm2.pid. */
  readonly pm2Pid: number | undefined;
  readonly startedAt: number;
  /** Set when its PM2 ended without being asked to: the next run tells the owner. */
  readonly pm2Died?: { readonly at: number; readonly code: number | null; readonly signal: string | null };
}

export const runRecordPath = (home: string) => join(home, 'state', 'run.json');

export async function readRunRecord(home: string): Promise<RunRecord | undefined> {
  const text = await readTextIfExists(runRecordPath(home));
  try {
    return text === undefined ? undefined : (JSON.parse(text) as RunRecord);
  } catch {
    return undefined;
  }
}

export const writeRunRecord = (home: string, record: RunRecord) => writeFileAtomically(runRecordPath(home), `${JSON.stringify(record)}\n`);
export const clearRunRecord = (home: string) => rm(runRecordPath(home), { force: true });

/**
 * The alert for a run that did not end cleanly: its PM2 died (recorded), or the run itself was killed
 * (the record is still there, its pid gone). A run that stopped on request removed its record.
 */
export function restartAlert(previous: RunRecord | undefined, previousAlive: boolean, now: number, host: string): Alert | undefined {
  if (!previous || previousAlive) return undefined;
  const how = previous.pm2Died
    ? `lifeguard's PM2 died at ${new Date(previous.pm2Died.at).toISOString()} (${previous.pm2Died.signal ? `signal ${previous.pm2Died.signal}` : `exit code ${previous.pm2Died.code}`}), taking the Gateways and the supervisor with it`
    : `the previous \`lifeguard run\` (pid ${previous.pid}, started ${new Date(previous.startedAt).toISOString()}) ended without stopping the stack`;
  const at = new Date(now).toISOString();
  return {
    event: 'recovered',
    incidentId: null,
    instance: 'pm2',
    severity: 'warning',
    summary: `On ${host}, ${how}. lifeguard started PM2, both Gateways and the supervisor again at ${at}.`,
    details: { host, restartedAt: at, ...(previous.pm2Died ? { pm2DiedAt: new Date(previous.pm2Died.at).toISOString() } : {}) },
    commands: ['lifeguard status'],
    at,
    idempotencyKey: `pm2-restarted-${now}`,
    host,
  };
}

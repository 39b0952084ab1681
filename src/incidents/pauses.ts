import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { UserError } from '../core/errors.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';

/** A maintenance window: no alerts and no automated action on the instance until `until`. */
export interface Pause {
  readonly until: number;
  readonly by: string;
  readonly at: number;
}

export type Pauses = Readonly<Partial<Record<string, Pause>>>;

export const MAX_PAUSE_MS = 7 * 86_400_000;
const UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function pausesPath(home: string): string {
  return join(home, 'state', 'pauses.json');
}

export async function readPauses(home: string): Promise<Pauses> {
  const text = await readTextIfExists(pausesPath(home));
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as Pauses;
  } catch {
    // A damaged file must not silence anything: treat it as no pause.
    return {};
  }
}

export function activePause(pauses: Pauses, instance: string, now: number): Pause | undefined {
  const pause = pauses[instance];
  return pause && pause.until > now ? pause : undefined;
}

/** Sets or (with undefined) lifts the pause of one instance, under a lock shared with other CLI runs. */
export async function setPause(home: string, instance: string, pause: Pause | undefined): Promise<void> {
  const path = pausesPath(home);
  await writeFileAtomically(path, (await readTextIfExists(path)) ?? '{}\n');
  const release = await lockfile.lock(path, { retries: { retries: 50, minTimeout: 20, maxTimeout: 200 }, stale: 15_000, realpath: false });
  try {
    const { [instance]: _dropped, ...others } = await readPauses(home);
    const next = pause ? { ...others, [instance]: pause } : others;
    await writeFileAtomically(path, `${JSON.stringify(next, null, 2)}\n`);
  } finally {
    await release();
  }
}

/** `90s`, `10m`, `2h`, `1d` (or combined, `1h30m`) → milliseconds; between a minute and a week. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const parts = [...trimmed.matchAll(/(\d+)\s*([smhd])/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed.replace(/\s/g, '') !== trimmed.replace(/\s/g, '')) {
    throw new UserError(`"${text}" is not a duration; write it like 10m, 2h, 1h30m or 1d`, 2);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
  if (ms < 60_000 || ms > MAX_PAUSE_MS) throw new UserError(`a pause must last between 1m and 7d (got ${text})`, 2);
  return ms;
}

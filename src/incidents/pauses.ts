import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { parseDuration } from '../core/duration.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';

/** A maintenance window: no alerts and no automated action on the instance until `until`. */
export interface Pause {
  readonly until: number;
  readonly by: string;
  readonly at: number;
}

export type Pauses = Readonly<Partial<Record<string, Pause>>>;

export const MAX_PAUSE_MS = 7 * 86_400_000;

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

/** How long a pause lasts (a minute to a week), in the one duration grammar. */
export function parsePauseLength(text: string): number {
  return parseDuration(text, { what: 'a pause', minMs: 60_000, maxMs: MAX_PAUSE_MS });
}

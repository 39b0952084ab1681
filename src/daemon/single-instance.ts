import { link, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../core/errors.js';
import { readProcStat } from '../host/proc-stat.js';

/**
 * The exit code of a supervisor that found another one watching the same LIFEGUARD_HOME. The lifeguard
 * PM2 app lists it in `stop_exit_codes`, so PM2 does not start the refused copy again and again.
 */
export const ANOTHER_SUPERVISOR_EXIT_CODE = 75;

/** How long a starting supervisor waits for the previous one to finish its shutdown (a `pm2 restart`). */
const HANDOVER_WAIT_MS = 8_000;
const POLL_MS = 250;

interface Holder {
  readonly pid: number;
  readonly startTicks: number;
  readonly since: string;
}

export function supervisorLockPath(home: string): string {
  return join(home, 'state', 'supervisor.pid');
}

/**
 * Takes the one-supervisor-per-LIFEGUARD_HOME lock for the life of this process: a pid file naming this
 * process by pid and start time (no wall-clock staleness; a holder is gone when its pid no longer has that
 * start time). A second copy waits briefly for a previous one that is shutting down, then refuses, before
 * it has connected to anything or sent anything. Returns the release function.
 */
export async function holdSupervisorLock(home: string, at: Date, handoverWaitMs = HANDOVER_WAIT_MS): Promise<() => Promise<void>> {
  const path = supervisorLockPath(home);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const self = await readProcStat(process.pid);
  const mine: Holder = { pid: process.pid, startTicks: self?.startTicks ?? 0, since: at.toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  for (let waited = 0; ; waited += POLL_MS) {
    try {
      await writeFile(path, text, { flag: 'wx', mode: 0o600 });
      return async () => {
        const current = await readFile(path, 'utf8').catch(() => '');
        if (current === text) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await readFile(path, 'utf8').catch(() => undefined);
    const holder = parseHolder(held);
    if (holder && holder.pid !== process.pid && (await isRunning(holder))) {
      if (waited >= handoverWaitMs) {
        throw new UserError(
          `another lifeguard supervisor (pid ${holder.pid}, running since ${holder.since}) already watches ${home}; this one exits and sends nothing. ` +
          `Stop that one first (npx pm2 delete lifeguard with its PM2_HOME, or kill ${holder.pid}).`,
          ANOTHER_SUPERVISOR_EXIT_CODE,
        );
      }
      await sleep(POLL_MS);
      continue;
    }
    if (held !== undefined) await setAsideStale(path, held);
  }
}

function parseHolder(text: string | undefined): Holder | undefined {
  try {
    const value = JSON.parse(text ?? '') as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.startTicks === 'number' ? (value as Holder) : undefined;
  } catch {
    return undefined;
  }
}

async function isRunning(holder: Holder): Promise<boolean> {
  const stat = await readProcStat(holder.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTicks === holder.startTicks;
}

/**
 * Moves a dead holder's file out of the way. Two supervisors starting at once may both judge it stale:
 * the rename lets only one of them take it, and a file that turns out to be a live newcomer's is put back.
 */
async function setAsideStale(path: string, judged: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => judged);
  if (moved !== judged) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

import { hostname } from 'node:os';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { UserError } from '../core/errors.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { monotonicMs } from '../core/clock.js';
import { isAlive } from '../core/process.js';

/** The exit code of a repair command that gave up waiting for another repair. */
export const BUSY_EXIT_CODE = 4;

/**
 * A holder that stopped refreshing the lock this long ago (killed, frozen) is presumed gone. proper-lockfile
 * refreshes its mtime every UPDATE_MS while the holder lives.
 */
export const REPAIR_LOCK_STALE_MS = 30_000;
const UPDATE_MS = 5_000;
/**
 * proper-lockfile's own staleness compares the lock's mtime with the wall clock, which a clock step
 * fools. It is set out of reach; waiters judge staleness themselves: the holder's process is gone, or the
 * mtime stopped changing for REPAIR_LOCK_STALE_MS of the waiter's monotonic time.
 */
const WALL_CLOCK_STALE_MS = 7 * 86_400_000;
const POLL_MS = 250;

/** Who holds the repair lock, for the message a waiter gets; written beside the lock once it is taken. */
export interface RepairLockHolder {
  readonly who: string;
  readonly what: string;
  readonly pid: number;
  readonly host: string;
  readonly since: number;
  /** When the holder expects to be done, if it said. */
  readonly expectedUntil?: number;
}

export interface RepairLockOptions {
  /** How long to wait for another holder (`repair.lockTimeoutMs`). */
  readonly timeoutMs: number;
  /** Who repairs: `rescue-agent`, `alice (cli)`, `lifeguard`. */
  readonly who: string;
  /** What: `restart main`, `config restore main`, `R2 restore of main`. */
  readonly what: string;
  /** How long the repair may take (a restart's health wait), so a waiter can be told when to try again. */
  readonly expectedMs?: number;
}

export function repairLockPath(home: string): string {
  return join(home, 'state', 'repair.lock');
}

function holderPath(home: string): string {
  return join(home, 'state', 'repair.lock.holder.json');
}

/**
 * Runs `fn` while holding lifeguard's one repair lock, so the supervisor's own repairs and the repair
 * commands (a person's or the rescue agent's) never change a Gateway at the same time. Waits up to
 * `timeoutMs` for another holder, then throws a UserError with exit code 4 naming who holds it and for what.
 */
export async function withRepairLock<T>(home: string, options: RepairLockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireRepairLock(home, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

async function acquireRepairLock(home: string, options: RepairLockOptions): Promise<() => Promise<void>> {
  const target = repairLockPath(home);
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  // proper-lockfile locks `<target>.lock`; the target itself only has to exist.
  await (await open(target, 'a', 0o600)).close();
  const started = monotonicMs();
  let lastMtime: number | undefined;
  let mtimeSteadySince = started;
  for (;;) {
    // Set when proper-lockfile finds the lock taken over (we failed to refresh it in time): the sidecar
    // then belongs to the new holder and must be left alone.
    let compromised = false;
    try {
      const release = await lockfile.lock(target, {
        stale: WALL_CLOCK_STALE_MS, update: UPDATE_MS, realpath: false, retries: 0,
        // The default throws from a timer, which would kill the supervisor; the repair finishes either way.
        onCompromised: () => { compromised = true; },
      });
      const since = Date.now();
      const holder: RepairLockHolder = {
        who: options.who, what: options.what, pid: process.pid, host: hostname(), since,
        ...(options.expectedMs !== undefined ? { expectedUntil: since + options.expectedMs } : {}),
      };
      // Informational only: a waiter without it still gets a (vaguer) busy message.
      await writeFileAtomically(holderPath(home), `${JSON.stringify(holder)}\n`).catch(() => undefined);
      return async () => {
        if (compromised) return;
        await rm(holderPath(home), { force: true }).catch(() => undefined);
        await release().catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const mtime = await stat(`${target}.lock`).then((s) => s.mtimeMs, () => undefined);
      if (mtime !== lastMtime) {
        lastMtime = mtime;
        mtimeSteadySince = monotonicMs();
      }
      const holder = await readRepairLockHolder(home);
      const holderGone = holder !== undefined && holder.host === hostname() && !isAlive(holder.pid);
      if (holderGone || monotonicMs() - mtimeSteadySince >= REPAIR_LOCK_STALE_MS) {
        // The holder died (or froze) without releasing it: take the lock over.
        await rm(`${target}.lock`, { recursive: true, force: true }).catch(() => undefined);
        continue;
      }
      const waited = monotonicMs() - started;
      if (waited >= options.timeoutMs) {
        const refreshedAt = await stat(`${target}.lock`).then((s) => s.mtimeMs, () => Date.now());
        throw new UserError(describeBusy(holder, { now: Date.now(), waitedMs: waited, refreshedAt, alive: isAlive }), BUSY_EXIT_CODE);
      }
      await sleep(Math.min(POLL_MS, options.timeoutMs - waited));
    }
  }
}

export async function readRepairLockHolder(home: string): Promise<RepairLockHolder | undefined> {
  try {
    const text = await readTextIfExists(holderPath(home));
    return text === undefined ? undefined : (JSON.parse(text) as RepairLockHolder);
  } catch {
    return undefined;
  }
}

export interface BusyContext {
  readonly now: number;
  readonly waitedMs: number;
  /** The lock's mtime: when its holder last proved it is alive. */
  readonly refreshedAt: number;
  readonly alive: (pid: number) => boolean;
}

/**
 * `busy: rescue-agent is running restart main since 2026-11-25T21:03:47.000Z (pid 4242); waited 30 s; try
 * again in 150 s`. A holder whose process is gone frees the lock by itself once it is stale.
 */
export function describeBusy(holder: RepairLockHolder | undefined, ctx: BusyContext): string {
  const waited = `waited ${Math.round(ctx.waitedMs / 1000)} s`;
  const seconds = (until: number) => Math.max(1, Math.ceil((until - ctx.now) / 1000));
  const staleAt = ctx.refreshedAt + REPAIR_LOCK_STALE_MS;
  if (!holder) return `busy: another repair holds the repair lock; ${waited}; try again in ${seconds(staleAt)} s`;
  const local = holder.host === hostname();
  const who = `${holder.who} is running ${holder.what} since ${new Date(holder.since).toISOString()} (pid ${holder.pid}${local ? '' : ` on ${holder.host}`})`;
  if (local && !ctx.alive(holder.pid)) {
    return `busy: ${who}, but that process is gone and the lock frees itself once stale; ${waited}; try again in ${seconds(staleAt)} s`;
  }
  // Without an estimate from the holder, as long again as this one waited.
  return `busy: ${who}; ${waited}; try again in ${seconds(holder.expectedUntil ?? ctx.now + ctx.waitedMs)} s`;
}


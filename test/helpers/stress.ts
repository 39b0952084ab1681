/**
 * Machine load for the benchmarks: stress-ng (Debian package `stress-ng`) in its own process group,
 * bounded by its own --timeout so that it stops even when the benchmark dies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { groupLeader } from './process-group.js';

export const STRESS_INSTALL_HINT = 'stress-ng is not installed: apt-get update && apt-get install -y stress-ng';

/** Throws with the install hint when `stress-ng` cannot be run. */
export function requireStressNg(): void {
  const probe = spawnSync('stress-ng', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new Error(STRESS_INSTALL_HINT);
}

const TMPFS_MAGIC = 0x01021994;

/** `preferred` when it is on a disk, else `fallback`: disk workers writing into tmpfs only fill memory. */
export function diskDir(preferred: string, fallback: string): string {
  return statfsSync(preferred).type === TMPFS_MAGIC ? fallback : preferred;
}

export interface StressLoad {
  /** What it runs, as a shell would print it. */
  readonly command: string;
  /** Ends every worker (SIGTERM to the group, SIGKILL after 10 s) and removes its scratch dir. */
  stop(): Promise<void>;
}

/**
 * Starts `stress-ng <workers>` for at most `maxSeconds`. Disk workers (--hdd, --io) write into a fresh
 * dir under `scratchParent`, which must be on a real disk (not tmpfs) for the load to be disk I/O.
 */
export function startStress(workers: readonly string[], maxSeconds: number, scratchParent: string): StressLoad {
  const scratch = mkdtempSync(join(scratchParent, 'lg-bench-io-'));
  const args = [...workers, '--temp-path', scratch, '--timeout', `${Math.ceil(maxSeconds)}s`];
  const leader = groupLeader(spawn('stress-ng', args, { detached: true, stdio: 'ignore' }));
  return {
    command: `stress-ng ${args.join(' ')}`,
    stop: async () => {
      // stress-ng reaps its workers before it exits; the group is killed after it all the same.
      await leader.stop(10_000);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

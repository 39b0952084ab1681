import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat, type ProcStat } from '../host/proc-stat.js';
import { descendantsOf } from './kill-tree.js';

/** The process lifeguard means to kill: a pid and the start time it had when PM2 reported it online. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Clock ticks since boot at the process's start (/proc/<pid>/stat field 22); undefined if never read. */
  readonly startTicks: number | undefined;
}

export type KillOutcome =
  | { readonly kind: 'killed'; readonly how: 'SIGTERM' | 'SIGKILL'; readonly pids: readonly number[] }
  | { readonly kind: 'gone' }
  | { readonly kind: 'not-the-same'; readonly detail: string };

export interface KillDeps {
  readonly stat: (pid: number) => Promise<ProcStat | undefined>;
  readonly signal: (pid: number, signal: NodeJS.Signals) => boolean;
  readonly descendants: (pid: number) => Promise<number[]>;
  readonly sleep: (ms: number) => Promise<unknown>;
}

const POLL_MS = 100;

const realDeps: KillDeps = {
  stat: readProcStat,
  signal: (pid, signal) => {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },
  descendants: descendantsOf,
  sleep: (ms) => sleep(ms),
};

/**
 * Stops a hung Gateway so that PM2 starts it again, the way Kubernetes and systemd do: SIGTERM, a grace,
 * then SIGKILL of what is left of its tree. Only ever the process that was meant: a pid whose start time
 * differs from the remembered one now belongs to someone else and is left alone. A stopped (`T`) process
 * cannot act on SIGTERM, so it gets SIGKILL at once.
 */
export async function stopHungProcess(target: ProcessIdentity, graceMs: number, deps: KillDeps = realDeps): Promise<KillOutcome> {
  const same = async (): Promise<ProcStat | 'gone' | string> => {
    const stat = await deps.stat(target.pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return 'gone';
    if (target.startTicks !== undefined && stat.startTicks !== target.startTicks) {
      return `pid ${target.pid} now belongs to another process (started at tick ${stat.startTicks}, not ${target.startTicks})`;
    }
    return stat;
  };
  const first = await same();
  if (first === 'gone') return { kind: 'gone' };
  if (typeof first === 'string') return { kind: 'not-the-same', detail: first };
  const tree = [target.pid, ...(await deps.descendants(target.pid))];
  if (first.state !== 'T' && first.state !== 't') {
    deps.signal(target.pid, 'SIGTERM');
    for (let waited = 0; waited < graceMs; waited += POLL_MS) {
      await deps.sleep(POLL_MS);
      const now = await same();
      if (now === 'gone') return { kind: 'killed', how: 'SIGTERM', pids: [target.pid] };
      if (typeof now === 'string') return { kind: 'killed', how: 'SIGTERM', pids: [target.pid] };
    }
    // Checked again right before the SIGKILL: the pid may have been reused during the grace.
    const still = await same();
    if (still === 'gone' || typeof still === 'string') return { kind: 'killed', how: 'SIGTERM', pids: [target.pid] };
  }
  const killed = tree.filter((pid) => deps.signal(pid, 'SIGKILL'));
  return { kind: 'killed', how: 'SIGKILL', pids: killed };
}

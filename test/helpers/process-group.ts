import type { ChildProcess } from 'node:child_process';

/** A child spawned with `detached: true` leads its own process group, which holds everything it forked. */
export interface GroupLeader {
  readonly pid: number;
  /** Ends the group: SIGTERM, SIGKILL after `graceMs`, and SIGKILL to any member still there after the leader. */
  stop(graceMs: number): Promise<void>;
}

export function groupLeader(child: ChildProcess): GroupLeader {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
  });
  child.once('error', () => undefined);
  const pid = child.pid!;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  let stopped: Promise<void> | undefined;
  return {
    pid,
    stop: (graceMs) => {
      stopped ??= (async () => {
        signalGroup('SIGTERM');
        const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs))]);
        if (timedOut) signalGroup('SIGKILL');
        await exited;
        signalGroup('SIGKILL');
      })();
      return stopped;
    },
  };
}

import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { killTree } from '../actions/kill-tree.js';
import { isAlive } from '../core/process.js';

/** PM2 gives every app it starts its `pm_id`; lifeguard gives its apps its own LIFEGUARD_HOME. */
export function isLeftoverApp(environ: readonly string[], lifeguardHome: string): boolean {
  return environ.includes(`LIFEGUARD_HOME=${lifeguardHome}`) && environ.some((entry) => entry.startsWith('pm_id='));
}

/**
 * Processes an earlier PM2 of this LIFEGUARD_HOME started and left behind when it died (a Gateway still
 * holding its port, a supervisor). Only valid while no PM2 runs lifeguard's apps: then none is anyone's.
 */
export async function findLeftovers(lifeguardHome: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (isLeftoverApp(environ.split('\0'), lifeguardHome)) found.push(Number(entry));
  }
  return found;
}

/** SIGTERM, up to `graceMs` to go, then SIGKILL of whatever is left (with its children). */
export async function stopLeftovers(pids: readonly number[], graceMs = 15_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(250);
  for (const pid of pids.filter(isAlive)) await killTree(pid);
}

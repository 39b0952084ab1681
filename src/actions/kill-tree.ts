import { readFile, readdir } from 'node:fs/promises';

/** Pids of every descendant of `root`, read from /proc (the Gateway spawns helpers that also hold resources). */
export async function descendantsOf(root: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name is in parentheses and may contain spaces; ppid is the second field after it.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * SIGKILLs a process and its descendants. A SIGSTOPped or wedged Gateway never acts on SIGINT/SIGTERM,
 * so a graceful stop would only wait out PM2's kill timeout.
 */
export async function killTree(root: number): Promise<number[]> {
  const pids = [root, ...(await descendantsOf(root))];
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

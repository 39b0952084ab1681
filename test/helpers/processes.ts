import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Linux /proc readers for the end-to-end tests: who runs, who listens where, with which environment. */

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The one-letter state from /proc/<pid>/stat (R, S, T = stopped, Z = zombie, ...), or undefined when gone. */
export function processState(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** Alive means it exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
}

export function environOf(pid: number): Record<string, string> | undefined {
  const raw = readProc(`/proc/${pid}/environ`);
  if (raw === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export function commandLineOf(pid: number): string {
  return (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

export function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * Processes whose environment carries one of `marks` (e.g. `PM2_HOME=/tmp/lge-x/pm2`): the PM2 daemon, the
 * apps it spawned and every helper they forked, however they renamed themselves. The caller is excluded.
 */
export function processesMarkedWith(marks: readonly string[]): number[] {
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const raw = readProc(`/proc/${pid}/environ`);
    if (raw === undefined) continue;
    const entries = raw.split('\0');
    if (marks.some((mark) => entries.includes(mark)) && isAlive(pid)) found.push(pid);
  }
  return found;
}

/** TCP ports `pid` listens on (IPv4 and IPv6), from its socket fds and /proc/net/tcp{,6}. */
export function listeningPortsOf(pid: number): number[] {
  const listeners = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readProc(table) ?? '').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is "HEX_IP:HEX_PORT"; st 0A is LISTEN; the inode is field 9.
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const port = parseInt(fields[1]!.split(':')[1]!, 16);
      listeners.set(fields[9]!, port);
    }
  }
  const ports = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const port = inode ? listeners.get(inode) : undefined;
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

export function describeProcess(pid: number): string {
  return `${pid} [${processState(pid) ?? 'gone'}] ${commandLineOf(pid).slice(0, 160)}`;
}

import { readFile, readdir, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { PortHolder } from './rules.js';

/** True when nothing listens on 127.0.0.1:port (a bind attempt is the only reliable test). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Finds who holds each port. A holder whose environment carries LIFEGUARD_INSTANCE (set by the PM2 app)
 * is one of our own Gateways; pids, never process names, decide that.
 */
export async function findPortHolders(ports: readonly number[]): Promise<Map<number, PortHolder>> {
  const holders = new Map<number, PortHolder>();
  const busy: number[] = [];
  for (const port of ports) {
    if (await isPortFree(port)) holders.set(port, { kind: 'free' });
    else busy.push(port);
  }
  if (busy.length === 0) return holders;
  const inodes = await listeningInodes(busy);
  const pids = await pidsOwningInodes(new Set(inodes.keys()));
  for (const port of busy) {
    const inode = [...inodes].find(([, p]) => p === port)?.[0];
    const pid = inode === undefined ? undefined : pids.get(inode);
    holders.set(port, pid === undefined ? { kind: 'foreign' } : await describeHolder(pid));
  }
  return holders;
}

async function describeHolder(pid: number): Promise<PortHolder> {
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  const instance = environ.split('\0').find((entry) => entry.startsWith('LIFEGUARD_INSTANCE='))?.slice('LIFEGUARD_INSTANCE='.length);
  if (instance) return { kind: 'own', instance, pid };
  const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
  return { kind: 'foreign', pid, ...(command ? { command: command.slice(0, 120) } : {}) };
}

/** Socket inode → port for TCP listeners (state 0A) on the wanted ports, IPv4 and IPv6. */
async function listeningInodes(ports: readonly number[]): Promise<Map<string, number>> {
  const wanted = new Set(ports);
  const result = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '0A') continue;
      const port = Number.parseInt(fields[1]?.split(':').pop() ?? '', 16);
      if (wanted.has(port) && fields[9]) result.set(fields[9], port);
    }
  }
  return result;
}

async function pidsOwningInodes(inodes: ReadonlySet<string>): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  if (inodes.size === 0) return owners;
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode) && !owners.has(inode)) owners.set(inode, Number(entry));
    }
    if (owners.size === inodes.size) break;
  }
  return owners;
}

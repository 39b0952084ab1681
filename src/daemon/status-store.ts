import { join } from 'node:path';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { redactStrings } from '../secrets/redact.js';
import type { DetectorSnapshot } from '../detector/types.js';
import type { ConfigFileStatus } from './config-reload.js';

/** What the daemon knows about one instance, written for `lifeguard status` and later for the rescue. */
export interface InstanceStatus {
  readonly instance: string;
  readonly appName: string;
  readonly flavour: string;
  readonly port: number;
  readonly configPath: string;
  readonly detector: DetectorSnapshot;
  readonly lastProbe: { at: number; live: boolean; ready: boolean; latencyMs: number; detail: string } | undefined;
  /** The open incident, if any. */
  readonly incident?: { id: string; rung: string; frozen: boolean; problem: string; summary: string } | undefined;
  readonly pausedUntil?: number | undefined;
  /** The config guard's latest verdict on this instance's config file (the main only). */
  readonly config?: { valid: boolean | 'unknown'; detail: string; at: number } | undefined;
  /** What PM2 last showed for the app (pid, restart count): a restarted supervisor compares it with PM2's view. */
  readonly pm2?: { pid: number | undefined; restarts: number } | undefined;
}

export interface DaemonStatus {
  readonly pid: number;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly instances: readonly InstanceStatus[];
  /** The lifeguard config file in effect and what became of its latest edit. */
  readonly configFile?: ConfigFileStatus | undefined;
  /** Where alerts go now (the notify entries in force); empty means nobody is told. */
  readonly alertProviders?: readonly string[] | undefined;
}

export function statusPath(home: string): string {
  return join(home, 'state', 'status.json');
}

export async function writeStatus(home: string, status: DaemonStatus): Promise<void> {
  await writeFileAtomically(statusPath(home), `${JSON.stringify(redactStrings(status))}\n`, 0o600);
}

export async function readStatus(home: string): Promise<DaemonStatus | undefined> {
  const text = await readTextIfExists(statusPath(home));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as DaemonStatus;
  } catch {
    return undefined;
  }
}

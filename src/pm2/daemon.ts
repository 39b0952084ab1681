import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function pm2Home(env: NodeJS.ProcessEnv = process.env): string {
  return env.PM2_HOME ?? join(env.HOME ?? homedir(), '.pm2');
}

/** The PM2 daemon's pid when one runs for this PM2_HOME. */
export function pm2DaemonPid(env: NodeJS.ProcessEnv = process.env): number | undefined {
  try {
    const pid = Number(readFileSync(join(pm2Home(env), 'pm2.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * True when a PM2 daemon runs for this PM2_HOME. Read-only commands check this first, because
 * `pm2.connect` would otherwise start a new, empty daemon.
 */
export function isPm2DaemonRunning(env: NodeJS.ProcessEnv = process.env): boolean {
  return pm2DaemonPid(env) !== undefined;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../host/proc-stat.js';
import type { Pm2Client } from './pm2.js';
import { stopHungProcess } from './safe-kill.js';

const RETRY_MS = 1_500;
/** PM2 refuses restarts while its own stop of a wedged process runs (up to the app's kill_timeout). */
const REFUSALS_FOR_MS = 60_000;
const AUTORESTART_WAIT_MS = 5_000;
const POLL_MS = 250;

/**
 * Restarts (or starts) a PM2 app, riding out PM2's refusal while its own automatic restart is under way
 * ("Process with pid ... already exists"). A process PM2 started after we asked already runs what we
 * wanted, so a second restart would only kill it. A stopped (SIGSTOP) process cannot act on PM2's stop
 * signal and would hold the restart for the whole kill_timeout, so it is killed first. Throws the last refusal.
 */
export async function restartApp(pm2: Pm2Client, appName: string, onRetry?: (error: unknown, attempt: number) => void): Promise<void> {
  const asked = Date.now();
  const before = await pm2.describe(appName).catch(() => undefined);
  if (before?.status === 'online' && before.pid !== undefined) {
    const stat = await readProcStat(before.pid);
    if (stat?.state === 'T' || stat?.state === 't') {
      await stopHungProcess({ pid: before.pid, startTicks: stat.startTicks }, 0);
      // PM2 restarts a killed app by itself; asking again on top would only kill the fresh process.
      for (let waited = 0; waited < AUTORESTART_WAIT_MS; waited += POLL_MS) {
        await sleep(POLL_MS);
        const app = await pm2.describe(appName).catch(() => undefined);
        if (app?.status === 'online' && app.pid !== before.pid) return;
      }
    }
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pm2.restart(appName);
      return;
    } catch (error) {
      await sleep(RETRY_MS);
      const app = await pm2.describe(appName).catch(() => undefined);
      if (app?.status === 'online' && (app.uptimeSince ?? 0) >= asked) return;
      if (Date.now() - asked >= REFUSALS_FOR_MS) throw error;
      onRetry?.(error, attempt);
    }
  }
}

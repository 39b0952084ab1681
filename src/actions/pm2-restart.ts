import { setTimeout as sleep } from 'node:timers/promises';
import type { Pm2Client } from './pm2.js';

const RESTART_TRIES = 4;
const RESTART_RETRY_MS = 1_500;

/**
 * Restarts (or starts) a PM2 app, riding out PM2's refusal while its own automatic restart is under way
 * ("Process with pid ... already exists"). A process PM2 started after we asked already runs what we
 * wanted, so a second restart would only kill it. Throws the last refusal.
 */
export async function restartApp(pm2: Pm2Client, appName: string, onRetry?: (error: unknown, attempt: number) => void): Promise<void> {
  const asked = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      await pm2.restart(appName);
      return;
    } catch (error) {
      await sleep(RESTART_RETRY_MS);
      const app = await pm2.describe(appName).catch(() => undefined);
      if (app?.status === 'online' && (app.uptimeSince ?? 0) >= asked) return;
      if (attempt >= RESTART_TRIES) throw error;
      onRetry?.(error, attempt);
    }
  }
}

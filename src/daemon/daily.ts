import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { buildDigest } from '../incidents/digest.js';
import { listIncidents } from '../incidents/store.js';
import type { Dispatcher } from '../notify/dispatcher.js';
import { callGateway } from '../probes/gateway-ws.js';
import { journalPath, type JournalEntry } from '../surfaces/journal.js';
import { INSTANCE_NAMES } from '../config/schema.js';
import { LIFEGUARD_VERSION } from '../version.js';

/** The daily digest to the providers that asked for it (`digest: true`). */
export async function sendDigest(ctx: { home: string; host: string; dispatcher: Dispatcher; now: number }): Promise<void> {
  const incidents = await listIncidents(ctx.home, 200);
  const text = await readFile(journalPath(ctx.home), 'utf8').catch(() => '');
  const since = ctx.now - 86_400_000;
  const journal: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const entry = JSON.parse(line) as JournalEntry;
      if (Date.parse(entry.ts) > since) journal.push(entry);
    } catch {
      // A torn last line after a crash is skipped.
    }
  }
  await ctx.dispatcher.enqueue(buildDigest({ at: ctx.now, host: ctx.host, instances: INSTANCE_NAMES, incidents, journal }));
}

export interface DeepCheckTarget {
  readonly instance: string;
  readonly url: string;
  readonly token: string | undefined;
}

/**
 * The deep check: the Gateway's `health` RPC with `probe: true`, which also asks every channel. Slower
 * than the liveness probe, so it runs on a schedule; a failure is written into the instance's incident
 * story and the log, it does not by itself call the Gateway down.
 */
export async function runDeepCheck(
  targets: readonly DeepCheckTarget[],
  ctx: { timeoutMs: number; note: (instance: string, text: string) => unknown; log: Logger },
): Promise<void> {
  for (const target of targets) {
    const result = await callGateway({
      url: target.url, token: target.token, timeoutMs: ctx.timeoutMs, clientVersion: LIFEGUARD_VERSION, method: 'health', params: { probe: true },
    });
    if (result.ok) {
      ctx.log.debug({ instance: target.instance }, 'deep check passed');
      continue;
    }
    ctx.log.warn({ instance: target.instance, detail: result.detail }, 'deep check failed');
    ctx.note(target.instance, `deep check (health with probe) failed: ${result.detail}`);
  }
}

import type { Logger } from 'pino';
import { withRepairLock } from '../actions/repair-lock.js';
import { stopHungProcess, type KillOutcome, type ProcessIdentity } from '../actions/safe-kill.js';
import { restartApp } from '../actions/pm2-restart.js';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../secrets/redact.js';
import type { DetectorEffect } from '../detector/types.js';
import type { Pm2Client } from '../actions/pm2.js';
import type { createJournal } from '../surfaces/journal.js';

/** SIGTERM first; what still runs this long after is SIGKILLed (a wedged event loop never handles SIGTERM). */
export const HUNG_KILL_GRACE_MS = 3_000;

export interface EffectContext {
  readonly name: string;
  readonly appName: string;
  readonly home: string;
  readonly pm2: Pm2Client;
  readonly log: Logger;
  readonly journal: ReturnType<typeof createJournal>;
  readonly secrets: () => string[];
  readonly now: () => number;
  /** The process PM2 reported online under this pid, with its start time. */
  readonly identityOf: (pid: number) => ProcessIdentity;
  /** A line for the open incident's story (or the prelude of the next one). */
  readonly note: (text: string) => void;
}

/** Carries out one detector effect: journal lines, the kill of a hung Gateway, a PM2 stop. */
export async function executeEffect(effect: DetectorEffect, ctx: EffectContext): Promise<void> {
  const log = ctx.log.child({ instance: ctx.name });
  switch (effect.type) {
    case 'transition': {
      const reason = redactText(effect.reason, ctx.secrets());
      log.info({ from: effect.from, to: effect.to, reason, classification: effect.classification }, 'state change');
      await ctx.journal.append({
        ts: new Date(ctx.now()).toISOString(), instance: ctx.name, from: effect.from, to: effect.to, reason,
        ...(effect.classification ? { classification: effect.classification } : {}),
      });
      return;
    }
    case 'note':
      log.info({ note: redactText(effect.text, ctx.secrets()) }, 'detector note');
      ctx.note(effect.text);
      return;
    case 'restart': {
      if (effect.pid === undefined) return;
      const outcome = await killHung(ctx.identityOf(effect.pid), ctx);
      const text = describeKill(outcome, effect.pid);
      log.warn({ outcome, reason: redactText(effect.reason, ctx.secrets()) }, text);
      ctx.note(text);
      return;
    }
    case 'start': {
      const started = await withRepairLock(ctx.home, { timeoutMs: 0, who: 'lifeguard', what: `start of ${ctx.name} (${effect.reason})`, expectedMs: 60_000 }, async () => {
        await restartApp(ctx.pm2, ctx.appName, (error, attempt) => log.warn({ err: error, attempt }, 'PM2 start refused; trying again'));
        return 'started it again through PM2';
      }).catch((error: unknown) => `did not start it: ${errorMessage(error)}`);
      log.info({ reason: redactText(effect.reason, ctx.secrets()) }, started);
      ctx.note(started);
      return;
    }
    case 'stop': {
      // Like the kill: a person's or the rescue's repair under way wins over lifeguard's stop.
      const stopped = await withRepairLock(ctx.home, { timeoutMs: 0, who: 'lifeguard', what: `stop of ${ctx.name} (${effect.reason})`, expectedMs: 10_000 }, async () => {
        await ctx.pm2.stop(ctx.appName).catch((error: unknown) => log.error({ err: error }, 'PM2 stop failed'));
        return 'stopped the PM2 app so PM2 does not loop it';
      }).catch((error: unknown) => `did not stop it: another repair holds the lock (${errorMessage(error)})`);
      log.warn({ reason: redactText(effect.reason, ctx.secrets()) }, stopped);
      ctx.note(stopped);
      return;
    }
  }
}

type KillAttempt = KillOutcome | { readonly kind: 'not-now'; readonly detail: string };

/** Never while someone else repairs: the kill takes the repair lock without waiting for it. */
async function killHung(target: ProcessIdentity, ctx: EffectContext): Promise<KillAttempt> {
  return withRepairLock(ctx.home, { timeoutMs: 0, who: 'lifeguard', what: `restart of the hung ${ctx.name} Gateway`, expectedMs: HUNG_KILL_GRACE_MS + 2_000 }, () =>
    stopHungProcess(target, HUNG_KILL_GRACE_MS),
  ).catch((error: unknown) => ({ kind: 'not-now' as const, detail: errorMessage(error) }));
}

function describeKill(outcome: KillAttempt, pid: number): string {
  switch (outcome.kind) {
    case 'killed':
      return outcome.how === 'SIGTERM'
        ? `stopped the unresponsive Gateway (pid ${pid}) with SIGTERM; PM2 starts it again`
        : `killed the unresponsive Gateway (pids ${outcome.pids.join(', ')}) with SIGKILL; PM2 starts it again`;
    case 'gone':
      return `pid ${pid} had already exited; nothing to kill`;
    case 'not-the-same':
      return `did not kill: ${outcome.detail}`;
    case 'not-now':
      return `did not kill pid ${pid}: another repair holds the lock (${outcome.detail})`;
  }
}

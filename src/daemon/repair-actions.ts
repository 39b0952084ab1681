import type { Logger } from 'pino';
import type { Pm2Client } from '../actions/pm2.js';
import { restartApp } from '../actions/pm2-restart.js';
import type { ResolvedInstance } from '../config/instance.js';
import { errorMessage } from '../core/errors.js';
import type { IncidentAction } from '../incidents/types.js';
import { restoreConfig } from '../snapshots/restore.js';
import { latestSnapshot } from '../snapshots/store.js';
import type { ActionOutcome } from './incident-desk.js';
import type { OperatorActionTracker } from './pm2-events.js';

export interface RepairContext {
  readonly home: string;
  readonly pm2: Pm2Client;
  readonly operatorActions: OperatorActionTracker;
  readonly log: Logger;
  readonly now: () => number;
  /** The Gateway's own last-known-good recovery (OpenClaw), when the ladder chose it. */
  readonly recoverWithGateway: (instance: ResolvedInstance) => Promise<ActionOutcome>;
}

/** Carries out one ladder action on one instance; never throws (a failure is an outcome the ladder sees). */
export async function carryOutRepair(
  action: Exclude<IncidentAction, 'handoff'>, instance: ResolvedInstance, source: 'gateway' | 'snapshot' | undefined, ctx: RepairContext,
): Promise<ActionOutcome> {
  try {
    if (action === 'restart') {
      await restart(instance, ctx);
      return { ok: true, detail: `${instance.appName} restarted through PM2` };
    }
    return await restore(instance, source, ctx);
  } catch (error) {
    return { ok: false, detail: errorMessage(error) };
  }
}

async function restore(instance: ResolvedInstance, source: 'gateway' | 'snapshot' | undefined, ctx: RepairContext): Promise<ActionOutcome> {
  let fallbackNote = '';
  if (source === 'gateway') {
    const own = await ctx.recoverWithGateway(instance);
    if (own.ok) {
      await restart(instance, ctx);
      return { ok: true, detail: `${own.detail}; restarted through PM2` };
    }
    fallbackNote = `the Gateway's own recovery failed (${own.detail}); `;
  }
  const snapshot = await latestSnapshot(ctx.home, instance.name);
  if (!snapshot) return { ok: false, detail: `${fallbackNote}no snapshot to restore` };
  const result = await restoreConfig({ configPath: instance.configPath, content: snapshot.content, at: ctx.now() });
  await restart(instance, ctx);
  const kept = result.keptAs ? `; the rejected file is kept as ${result.keptAs}` : '';
  return { ok: true, detail: `${fallbackNote}restored snapshot ${snapshot.id}${kept}; restarted through PM2` };
}

async function restart(instance: ResolvedInstance, ctx: RepairContext): Promise<void> {
  // lifeguard's own start is deliberate: it closes the crash-loop breaker like an operator's would.
  ctx.operatorActions.noteHeld(instance.appName);
  await restartApp(ctx.pm2, instance.appName, (error, attempt) => ctx.log.warn({ err: error, instance: instance.name, attempt }, 'PM2 restart refused; trying again'));
}

import type { Alert, AlertEventName } from '../notify/types.js';
import { RUNG_NAMES } from './ladder.js';
import type { EngineEffect, IncidentAction, IncidentCore, Rung } from './types.js';
import { ownerCommand } from '../core/command-line.js';

export type TimelineKind = 'state' | 'probe' | 'pm2' | 'guard' | 'action' | 'alert' | 'delivery' | 'note' | 'audit';

export interface TimelineEntry {
  readonly at: number;
  readonly kind: TimelineKind;
  readonly text: string;
}

export interface ActionRecord {
  readonly at: number;
  readonly rung: Rung;
  readonly action: IncidentAction;
  readonly reason: string;
  /** `started` is written before the action runs: a lifeguard killed mid-action never repeats it blindly. */
  readonly status: 'started' | 'succeeded' | 'failed' | 'interrupted';
  readonly detail?: string;
  readonly finishedAt?: number;
}

export interface DeliveryRecord {
  readonly key: string;
  readonly event: AlertEventName;
  readonly provider: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly at: number;
  readonly error?: string;
}

/** Everything known about one outage, as stored in `$LIFEGUARD_HOME/incidents/<id>.json`. Secret-free. */
export interface IncidentRecord extends IncidentCore {
  readonly configPath: string;
  readonly timeline: readonly TimelineEntry[];
  readonly actions: readonly ActionRecord[];
  readonly deliveries: readonly DeliveryRecord[];
  /** The Gateway's own last error lines (stderr) at the latest exit. */
  readonly errorOutput: readonly string[];
  /** Its last output lines (stdout and stderr) at the latest exit. */
  readonly logTail: readonly string[];
  readonly timeToRecoverMs: number | undefined;
}

const MAX_TIMELINE = 500;
/** The first entries tell how it began; the rest is the most recent story. */
const TIMELINE_HEAD = 50;

export function newRecord(core: IncidentCore, configPath: string): IncidentRecord {
  return { ...core, configPath, timeline: [], actions: [], deliveries: [], errorOutput: [], logTail: [], timeToRecoverMs: undefined };
}

export function withTimeline(record: IncidentRecord, entries: readonly TimelineEntry[]): IncidentRecord {
  if (entries.length === 0) return record;
  // In time order: notes of one instance wait behind a long action, and arrive after its result.
  const all = [...record.timeline, ...entries].sort((a, b) => a.at - b.at);
  const timeline = all.length <= MAX_TIMELINE
    ? all
    : [...all.slice(0, TIMELINE_HEAD), { at: all[TIMELINE_HEAD]!.at, kind: 'note' as const, text: `(${all.length - MAX_TIMELINE} entries dropped)` }, ...all.slice(all.length - (MAX_TIMELINE - TIMELINE_HEAD - 1))];
  return { ...record, timeline };
}

/**
 * Folds one engine step into the record: the new core, a timeline line per effect, an action entry per
 * `act` (as `started`). Returns the alerts to send; the caller queues them before it saves the record,
 * so a crash in between re-emits the same idempotency keys and the outbox drops the repeats.
 */
export function applyStep(
  record: IncidentRecord, core: IncidentCore, effects: readonly EngineEffect[], at: number, host: string,
): { record: IncidentRecord; alerts: Alert[] } {
  let next: IncidentRecord = { ...record, ...core };
  // Recovered is when it came back, not when the incident closed (that waits for the resolve window).
  if (core.status === 'resolved' && record.status === 'open') next = { ...next, timeToRecoverMs: (record.recoveredAt ?? at) - core.openedAt };
  const entries: TimelineEntry[] = [];
  const alerts: Alert[] = [];
  for (const effect of effects) {
    if (effect.type === 'note') entries.push({ at, kind: 'note', text: effect.text });
    if (effect.type === 'act') {
      entries.push({ at, kind: 'action', text: `${effect.rung} ${effect.action}: ${effect.reason}` });
      next = { ...next, actions: [...next.actions, { at, rung: effect.rung, action: effect.action, reason: effect.reason, status: 'started' }] };
    }
    if (effect.type === 'alert') {
      const alert = buildAlert(next, effect, at, host);
      entries.push({ at, kind: 'alert', text: `${effect.event} (${effect.severity}): ${effect.summary}` });
      alerts.push(alert);
    }
  }
  return { record: withTimeline(next, entries), alerts };
}

/** Marks the newest action still `started` as finished. */
export function finishAction(record: IncidentRecord, status: 'succeeded' | 'failed' | 'interrupted', detail: string, at: number): IncidentRecord {
  const index = record.actions.findLastIndex((a) => a.status === 'started');
  if (index < 0) return record;
  const action = record.actions[index]!;
  const actions = record.actions.map((a, i) => (i === index ? { ...a, status, detail, finishedAt: at } : a));
  return withTimeline({ ...record, actions }, [{ at, kind: 'action', text: `${action.rung} ${action.action} ${status}: ${detail}` }]);
}

export function recordDelivery(record: IncidentRecord, delivery: DeliveryRecord): IncidentRecord {
  const known = record.deliveries.find((d) => d.key === delivery.key && d.provider === delivery.provider);
  // A settled delivery stays settled: a late "pending" (queued before, recorded after) changes nothing.
  if (known && known.status !== 'pending' && delivery.status === 'pending') return record;
  const others = record.deliveries.filter((d) => !(d.key === delivery.key && d.provider === delivery.provider));
  const text = `${delivery.event} → ${delivery.provider}: ${delivery.status}${delivery.attempts > 1 ? ` after ${delivery.attempts} attempts` : ''}${delivery.error ? ` (${delivery.error})` : ''}`;
  const settled = delivery.status !== 'pending';
  return withTimeline({ ...record, deliveries: [...others, delivery] }, settled ? [{ at: delivery.at, kind: 'delivery', text }] : []);
}

export function alertKey(incidentId: string, event: AlertEventName, sequence: number): string {
  return `${incidentId}.${event}.${sequence}`;
}

function buildAlert(record: IncidentRecord, effect: Extract<EngineEffect, { type: 'alert' }>, at: number, host: string): Alert {
  const details: Record<string, string> = {
    instance: record.instance,
    state: effect.event === 'resolved' ? 'resolved' : record.problem,
    ...(record.classification ? { classification: record.classification } : {}),
    rung: `${record.rung} (${RUNG_NAMES[record.rung]})`,
    opened: new Date(record.openedAt).toISOString(),
    config: record.configPath,
  };
  const lastAction = record.actions.at(-1);
  if (lastAction) details.lastAction = `${lastAction.rung} ${lastAction.action}: ${lastAction.status}${lastAction.detail ? ` (${lastAction.detail})` : ''}`;
  const evidence = record.errorOutput.at(-1);
  if (evidence && effect.event !== 'resolved') details.evidence = evidence;
  if (record.timeToRecoverMs !== undefined) details.timeToRecover = `${Math.round(record.timeToRecoverMs / 1000)} s`;
  return {
    event: effect.event,
    incidentId: record.id,
    instance: record.instance,
    severity: effect.severity,
    summary: effect.summary,
    details,
    commands: commandsFor(record, effect.event),
    at: new Date(at).toISOString(),
    idempotencyKey: alertKey(record.id, effect.event, effect.sequence),
    host,
  };
}

function commandsFor(record: IncidentRecord, event: AlertEventName): string[] {
  if (event === 'resolved') return [ownerCommand(`incident show ${record.id}`)];
  const commands = [ownerCommand(`incident show ${record.id}`)];
  if (record.frozen || !record.ack) commands.push(ownerCommand(`incident ack ${record.id}`));
  if (record.problem === 'config-invalid' || record.classification === 'config-invalid') commands.push(ownerCommand(`config diff ${record.instance}`));
  return commands;
}

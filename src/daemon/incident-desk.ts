import type { Logger } from 'pino';
import { stepIncident } from '../incidents/engine.js';
import { grantLease } from '../incidents/ladder.js';
import {
  applyStep, finishAction, newRecord, recordDelivery, withTimeline,
  type IncidentRecord, type TimelineEntry, type TimelineKind,
} from '../incidents/record.js';
import { createIncident, findOpenIncident, listIncidents, updateIncident } from '../incidents/store.js';
import type { EngineEffect, EngineSettings, IncidentAction, IncidentCore, World } from '../incidents/types.js';
import type { Delivery } from '../notify/outbox.js';
import type { Alert } from '../notify/types.js';

const HOUR_MS = 3_600_000;
/** Timeline entries kept from before an incident opens (the exit that caused it usually comes first). */
const PRELUDE_ENTRIES = 20;
const PRELUDE_MS = 10 * 60_000;

export interface ActionOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

export interface DeskDeps {
  readonly home: string;
  readonly host: string;
  readonly settings: EngineSettings;
  readonly log: Logger;
  readonly now: () => number;
  readonly enqueue: (alert: Alert) => Promise<unknown>;
  readonly configPathOf: (instance: string) => string;
  /** The world now; `health` overrides the detector's state with the transition being reported. */
  readonly world: (instance: string, health?: World['health']) => Promise<World>;
  readonly act: (instance: string, action: IncidentAction, incident: IncidentRecord) => Promise<ActionOutcome>;
  /** An incident just closed (archive what was handed to the rescue). */
  readonly onResolved?: (incident: IncidentRecord) => Promise<void>;
}

interface Evidence {
  readonly errorOutput: readonly string[];
  readonly logTail: readonly string[];
}

/**
 * The I/O shell around the incident engine: one open incident per instance, persisted after every
 * step (under the record's lock, so a CLI ack or resolve in between is never lost), alerts queued in
 * the outbox before the record that mentions them is saved, and ladder actions carried out afterwards.
 */
export class IncidentDesk {
  /** The open incident of each instance, as of its last step; its id is the record to update. */
  private readonly cores = new Map<string, IncidentCore>();
  private readonly prelude = new Map<string, TimelineEntry[]>();
  private readonly evidence = new Map<string, Evidence>();
  private readonly queues = new Map<string, Promise<void>>();
  private actionTimes: number[] = [];

  constructor(private readonly deps: DeskDeps) {}

  /** Picks up the open incidents of a previous run; an action it was in the middle of is not repeated. */
  async load(instances: readonly string[]): Promise<void> {
    const now = this.deps.now();
    for (const instance of instances) {
      const open = await findOpenIncident(this.deps.home, instance);
      if (!open) continue;
      this.cores.set(instance, open);
      await updateIncident(this.deps.home, open.id, (r) => withTimeline(r, [{ at: now, kind: 'note', text: `lifeguard restarted; it resumes this incident at ${r.rung}` }]));
      const interrupted = open.actions.find((a) => a.status === 'started');
      if (interrupted) {
        const updated = await updateIncident(this.deps.home, open.id, (r) => {
          const finished = finishAction(r, 'interrupted', 'lifeguard restarted during the action; it is not repeated', now);
          // A handoff cut short never granted its lease: the ladder must page instead of waiting for it forever.
          return interrupted.action === 'handoff' && !r.lease ? { ...finished, handoffError: 'interrupted by a restart of lifeguard' } : finished;
        });
        this.cores.set(instance, updated);
      }
    }
    for (const record of await listIncidents(this.deps.home, 50)) {
      this.actionTimes.push(...record.actions.map((a) => a.at).filter((at) => now - at < HOUR_MS));
    }
  }

  /** The open incident of an instance as of the last step. */
  current(instance: string): IncidentCore | undefined {
    return this.cores.get(instance);
  }

  actionsLastHour(now: number): number {
    this.actionTimes = this.actionTimes.filter((at) => now - at < HOUR_MS);
    return this.actionTimes.length;
  }

  /** An automated action taken outside the ladder (a detector kill) still counts against the hourly budget. */
  countAction(at: number): void {
    this.actionTimes.push(at);
  }

  /**
   * One step of the instance's incident. `health` is the state a transition went to: by the time the
   * step runs the detector may have moved on (a kill goes down → recovering at once), and the outage
   * must still be seen.
   */
  observe(instance: string, health?: World['health']): Promise<void> {
    return this.serially(instance, () => this.step(instance, health));
  }

  note(instance: string, kind: TimelineKind, text: string): Promise<void> {
    const entry: TimelineEntry = { at: this.deps.now(), kind, text };
    return this.serially(instance, async () => {
      const id = this.cores.get(instance)?.id;
      if (id) {
        await updateIncident(this.deps.home, id, (r) => (r.status === 'open' ? withTimeline(r, [entry]) : undefined));
        return;
      }
      const recent = (this.prelude.get(instance) ?? []).filter((e) => entry.at - e.at < PRELUDE_MS);
      this.prelude.set(instance, [...recent, entry].slice(-PRELUDE_ENTRIES));
    });
  }

  /** The Gateway's own output at its latest exit, kept for the incident it belongs to. */
  setEvidence(instance: string, evidence: Evidence): Promise<void> {
    if (evidence.logTail.length === 0) return Promise.resolve();
    this.evidence.set(instance, evidence);
    return this.serially(instance, async () => {
      const id = this.cores.get(instance)?.id;
      if (id) await updateIncident(this.deps.home, id, (r) => (r.status === 'open' ? { ...r, ...evidence } : undefined));
    });
  }

  /**
   * Delivery results land in the incident the alert belongs to, in the order they happened: queued with
   * the instance's steps, so a delivery faster than the saving of a new incident still finds its record.
   */
  recordDelivery(delivery: Delivery): Promise<void> {
    const { incidentId, event, instance } = delivery.alert;
    if (!incidentId || !instance) return Promise.resolve();
    const at = this.deps.now();
    return this.serially(instance, async () => {
      await updateIncident(this.deps.home, incidentId, (r) => recordDelivery(r, {
        key: delivery.alert.idempotencyKey, event, provider: delivery.provider, status: delivery.status,
        attempts: delivery.attempts, at, ...(delivery.lastError ? { error: delivery.lastError } : {}),
      }));
    });
  }

  private async step(instance: string, health?: World['health']): Promise<void> {
    const world = await this.deps.world(instance, health);
    const id = this.cores.get(instance)?.id;
    let acts: Array<Extract<EngineEffect, { type: 'act' }>> = [];
    let saved: IncidentRecord | undefined;
    if (id === undefined) {
      const { incident, effects } = stepIncident(undefined, world, this.deps.settings);
      if (!incident) return;
      const evidence = this.evidence.get(instance);
      const fresh = withTimeline({ ...newRecord(incident, this.deps.configPathOf(instance)), ...evidence }, this.prelude.get(instance) ?? []);
      const applied = applyStep(fresh, incident, effects, world.at, this.deps.host);
      for (const alert of applied.alerts) await this.deps.enqueue(alert);
      await createIncident(this.deps.home, applied.record);
      this.prelude.delete(instance);
      acts = effects.filter((e) => e.type === 'act');
      saved = applied.record;
    } else {
      saved = await updateIncident(this.deps.home, id, async (current) => {
        if (current.status !== 'open') return undefined;
        const { incident, effects } = stepIncident(current, world, this.deps.settings);
        if (!incident || (incident === current && effects.length === 0)) return undefined;
        const applied = applyStep(current, incident, effects, world.at, this.deps.host);
        for (const alert of applied.alerts) await this.deps.enqueue(alert);
        acts = effects.filter((e) => e.type === 'act');
        return applied.record;
      });
    }
    if (saved.status === 'open') {
      this.cores.set(instance, saved);
    } else {
      this.cores.delete(instance);
      await this.deps.onResolved?.(saved).catch((error: unknown) => this.deps.log.warn({ err: error, incident: saved?.id }, 'after-resolve step failed'));
    }
    for (const act of acts) await this.carryOut(instance, act, saved);
  }

  private async carryOut(instance: string, act: Extract<EngineEffect, { type: 'act' }>, record: IncidentRecord): Promise<void> {
    this.actionTimes.push(this.deps.now());
    const outcome = await this.deps.act(instance, act.action, record).catch((error: unknown) => ({ ok: false, detail: String(error) }));
    this.deps.log[outcome.ok ? 'info' : 'error']({ instance, incident: record.id, rung: act.rung, action: act.action, detail: outcome.detail }, 'ladder action finished');
    const at = this.deps.now();
    const updated = await updateIncident(this.deps.home, record.id, (r) => {
      const finished = finishAction(r, outcome.ok ? 'succeeded' : 'failed', outcome.detail, at);
      if (act.action !== 'handoff') return finished;
      // The lease starts when the brief is in place; a failed handoff is for the ladder to escalate.
      return outcome.ok ? { ...finished, ...grantLease(finished, at, this.deps.settings) } : { ...finished, handoffError: outcome.detail };
    });
    if (updated.status === 'open') this.cores.set(instance, updated);
  }

  /** Steps, notes and evidence of one instance happen one at a time, in order. */
  private serially(instance: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(instance) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      this.deps.log.error({ err: error, instance }, 'incident handling failed');
    });
    this.queues.set(instance, next);
    return next;
  }
}


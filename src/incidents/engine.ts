import { severityRank, type AlertEventName, type Severity } from '../notify/types.js';
import { formatDuration } from '../core/duration.js';
import { climb, grantLease, RUNG_NAMES } from './ladder.js';
import { RUNGS, type EngineEffect, type EngineResult, type EngineSettings, type IncidentCore, type Problem, type World } from './types.js';
import { ownerCommand } from '../core/command-line.js';
import { incidentIdFor } from './id.js';

const PROBLEM_RANK: Readonly<Record<Problem, number>> = { degraded: 0, 'config-invalid': 1, down: 2 };

interface Trouble {
  readonly problem: Problem;
  readonly classification: IncidentCore['classification'];
  readonly severity: Severity;
  readonly summary: string;
}

/**
 * The incident life cycle of one instance, pure: opens one incident per outage, turns later trouble
 * into updates of it (never a duplicate alert), climbs the escalation ladder, reminds, and resolves
 * once the instance has stayed healthy for `resolveAfterMs` (a relapse inside that window continues
 * the same incident, so a flapping Gateway never opens a stream of them).
 */
export function stepIncident(open: IncidentCore | undefined, world: World, settings: EngineSettings): EngineResult {
  const paused = world.pausedUntil !== undefined && world.pausedUntil > world.at;
  const trouble = troubleOf(world);
  if (open === undefined || open.status === 'resolved') {
    if (trouble === undefined || paused) return { incident: open, effects: [] };
    return openIncident(trouble, world, settings);
  }
  const out = new Steps(open, world.at, paused);
  if (trouble) {
    if (out.core.recoveredAt !== undefined) {
      out.update({ recoveredAt: undefined });
      out.note(`trouble again before the incident resolved: ${trouble.summary}`);
    }
    if (PROBLEM_RANK[trouble.problem] > PROBLEM_RANK[out.core.problem]) {
      out.update({ ...trouble });
      out.alert(eventOf(trouble), trouble.severity, trouble.summary);
    } else if (PROBLEM_RANK[trouble.problem] < PROBLEM_RANK[out.core.problem] && trouble.problem === 'degraded') {
      // Answering but not ready yet is how a restarted Gateway comes back: worth a line, not an alert.
      out.update({ problem: 'degraded', summary: trouble.summary });
      out.note(`answering again, not ready yet: ${trouble.summary}`);
    } else if (PROBLEM_RANK[trouble.problem] < PROBLEM_RANK[out.core.problem]) {
      const summary = `${world.instance} Gateway is back up, but not fully: ${trouble.summary}`;
      // The all-clear goes at the severity of the alarm, so a provider that only takes critical alerts hears it too.
      const severity = out.core.severity;
      out.update({ ...trouble, summary });
      out.alert('recovered', severity, summary);
    } else if (trouble.classification !== out.core.classification) {
      out.update({ classification: trouble.classification, summary: trouble.summary });
      out.note(trouble.summary);
    }
  } else if (world.health.state === 'healthy') {
    if (out.core.recoveredAt === undefined) {
      out.update({ recoveredAt: world.at });
      out.note('healthy again');
    }
    if (world.at - out.core.recoveredAt! >= settings.resolveAfterMs) {
      out.resolve(`${world.instance} Gateway is healthy again; the incident lasted ${formatDuration(world.at - open.openedAt)}`);
      return out.result();
    }
  }
  out.climb(world, settings);
  if (!paused && !out.core.ack && settings.reminderIntervalMs > 0 && world.at - out.core.lastAlertAt >= settings.reminderIntervalMs) {
    out.alert('reminder', out.core.severity, `still open: ${out.core.summary}`);
  }
  return out.result();
}

/**
 * Someone takes the incident: reminders stop, the rescue's lease counts as acknowledged, and an instance
 * frozen at R4 is handed back to automation. An ack after an earlier one still does what is left to do
 * (the rescue acked its lease; the owner later unfreezes R4).
 */
export function acknowledge(open: IncidentCore, by: string, at: number): EngineResult {
  if (open.status === 'resolved') return { incident: open, effects: [] };
  const leaseAck = open.lease !== undefined && open.lease.ackedAt === undefined && at < open.lease.until;
  if (open.ack && !open.frozen && !leaseAck) return { incident: open, effects: [] };
  const out = new Steps(open, at, false);
  out.update({ ack: { by, at }, frozen: false, ...(leaseAck ? { lease: { ...open.lease!, ackedAt: at } } : {}) });
  const what = leaseAck ? `; the rescue's lease runs until ${new Date(open.lease!.until).toISOString()}` : open.frozen ? '; automation resumes' : '';
  out.note(`acknowledged by ${by}${what}`);
  return out.result();
}

/** An operator closes the incident now, whatever the probes say. */
export function resolveIncident(open: IncidentCore, by: string, at: number): EngineResult {
  if (open.status === 'resolved') return { incident: open, effects: [] };
  const out = new Steps(open, at, false);
  out.resolve(`resolved by ${by}`);
  return out.result();
}

/** The owner hands the main to the rescue by hand (`lifeguard handoff <id>`): R3 with a fresh lease. */
export function handOverByOperator(open: IncidentCore, by: string, at: number, settings: Pick<EngineSettings, 'leaseMs' | 'ackDeadlineMs'>): EngineResult {
  const out = new Steps(open, at, false);
  const rung = RUNGS.indexOf(open.rung) < RUNGS.indexOf('R3') ? 'R3' : open.rung;
  out.update({ ...grantLease(open, at, settings), rung, rungSince: at, attempts: { ...open.attempts, R3: open.attempts.R3 + 1 }, frozen: false });
  out.note(`${open.rung} → ${rung}: handed to the rescue bot by ${by}; lease until ${new Date(at + settings.leaseMs).toISOString()}`);
  out.alert('escalated', open.severity, `${open.instance} Gateway handed to the rescue bot by ${by}: it holds the main for ${Math.round(settings.leaseMs / 60_000)} min`);
  return out.result();
}

function troubleOf(world: World): Trouble | undefined {
  const { health, instance } = world;
  const severity: Severity = instance === 'main' ? 'critical' : 'warning';
  if (health.state === 'down' && health.classification !== 'stopped') {
    return { problem: 'down', classification: health.classification, severity, summary: `${instance} Gateway is down (${health.classification ?? 'unknown'}): ${health.reason}` };
  }
  if (world.config?.valid === false) {
    return {
      problem: 'config-invalid', classification: 'config-invalid', severity: 'warning',
      summary: `${instance} Gateway's config is invalid (${world.config.detail}); it will not start again until that is fixed`,
    };
  }
  if (health.state === 'degraded') {
    return { problem: 'degraded', classification: undefined, severity: 'warning', summary: `${instance} Gateway answers but is not ready: ${health.reason}` };
  }
  return undefined;
}

function eventOf(trouble: Trouble): AlertEventName {
  if (trouble.problem === 'down') return trouble.classification === 'config-invalid' ? 'config-invalid' : 'down';
  return trouble.problem;
}

function openIncident(trouble: Trouble, world: World, settings: EngineSettings): EngineResult {
  const core: IncidentCore = {
    id: incidentIdFor(world.instance, world.at),
    instance: world.instance,
    status: 'open',
    openedAt: world.at,
    ...trouble,
    rung: 'R0',
    rungSince: world.at,
    attempts: { R0: 0, R1: 0, R2: 0, R3: 0, R4: 0 },
    frozen: false,
    ack: undefined,
    recoveredAt: undefined,
    resolvedAt: undefined,
    lastAlertAt: world.at,
    alertCounts: {},
  };
  const out = new Steps(core, world.at, false);
  out.note(`opened: ${trouble.summary}`);
  out.alert(eventOf(trouble), trouble.severity, trouble.summary);
  out.climb(world, settings);
  return out.result();
}

/** Accumulates the changes of one step: the incident as it becomes, and the effects in order. */
class Steps {
  private readonly effects: EngineEffect[] = [];

  constructor(public core: IncidentCore, private readonly at: number, private readonly silenced: boolean) {}

  update(patch: Partial<IncidentCore>): void {
    this.core = { ...this.core, ...patch };
  }

  note(text: string): void {
    this.effects.push({ type: 'note', text });
  }

  alert(event: AlertEventName, severity: Severity, summary: string): void {
    if (this.silenced) {
      this.note(`alert not sent (paused): ${summary}`);
      return;
    }
    const sequence = (this.core.alertCounts[event] ?? 0) + 1;
    this.core = { ...this.core, lastAlertAt: this.at, alertCounts: { ...this.core.alertCounts, [event]: sequence } };
    this.effects.push({ type: 'alert', event, severity, summary, sequence });
  }

  climb(world: World, settings: EngineSettings): void {
    const climbed = climb(this.core, world, settings);
    this.core = climbed.core;
    this.effects.push(...climbed.effects);
    for (const effect of climbed.effects) {
      if (effect.type === 'act' && effect.action !== 'restart') {
        this.alert('escalated', higher(this.core.severity, 'warning'), `${world.instance} Gateway: ${effect.reason} (${effect.rung}, ${RUNG_NAMES[effect.rung]})`);
      }
    }
    if (climbed.paged) {
      // Why it came to this: the escalations of this climb, the one that says most first.
      const reasons = climbed.effects.flatMap((e) => (e.type === 'note' ? [e.text.replace(/^R\d → R\d \([^)]*\): /, '')] : []));
      const why = reasons.filter((r) => !/not available|switched off|not handed to itself/.test(r)).at(-1) ?? reasons.at(-1) ?? 'automation cannot fix it';
      this.alert('escalated', 'critical', `${world.instance} Gateway needs you (automation frozen until: ${ownerCommand(`incident ack ${this.core.id}`)}): ${why}. ${this.core.summary}`);
    }
  }

  resolve(summary: string): void {
    this.update({ status: 'resolved', resolvedAt: this.at, frozen: false, ...(this.core.lease ? { lease: { ...this.core.lease, until: Math.min(this.core.lease.until, this.at) } } : {}) });
    this.note(summary);
    this.alert('resolved', this.core.severity, summary);
  }

  result(): EngineResult {
    return { incident: this.core, effects: this.effects };
  }
}

function higher(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

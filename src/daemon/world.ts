import type { InstanceName } from '../config/schema.js';
import type { LifeguardConfig } from '../config/load.js';
import type { DetectorSettings, DetectorSnapshot } from '../detector/types.js';
import type { EngineSettings, World } from '../incidents/types.js';
import { leaseHeld } from '../incidents/ladder.js';
import type { IncidentCore } from '../incidents/types.js';
import { ownerCommand } from '../core/command-line.js';

/** PM2 statuses in which PM2 itself runs or is about to run the app (it restarts crashes by itself). */
const ALIVE_STATUSES = new Set(['online', 'launching', 'waiting restart']);

/** Waits before starting a Gateway that keeps dying of a failed network call (see detector/machine.ts). */
const NETWORK_RETRY_MS = 30_000;
const NETWORK_RETRY_MAX_MS = 15 * 60_000;

export function detectorSettings(config: LifeguardConfig): DetectorSettings {
  return {
    failureThreshold: config.probes.failureThreshold,
    successThreshold: config.probes.successThreshold,
    startupGraceMs: config.probes.startupGraceMs,
    crashLoopExits: config.restarts.crashLoopExits,
    crashLoopWindowMs: config.restarts.crashLoopWindowMs,
    maxRestartsPerHour: config.restarts.maxPerHour,
    hangConfirmMs: config.probes.hangConfirmMs,
    busyHangConfirmMs: config.probes.busyHangConfirmMs,
    settleMs: config.probes.settleMs,
    maxOwnLagMs: config.probes.maxOwnLagMs,
    networkRetryMs: NETWORK_RETRY_MS,
    networkRetryMaxMs: NETWORK_RETRY_MAX_MS,
  };
}

export function engineSettings(config: LifeguardConfig): EngineSettings {
  return {
    reminderIntervalMs: config.alerts.reminderIntervalMs,
    resolveAfterMs: config.alerts.resolveAfterMs,
    maxActionsPerHour: config.escalation.maxActionsPerHour,
    restartAttempts: config.escalation.restartAttempts,
    restartDeadlineMs: config.escalation.restartDeadlineMs,
    restoreAttempts: config.escalation.restoreAttempts,
    restoreDeadlineMs: config.escalation.restoreDeadlineMs,
    handoffAvailable: config.handoff.enabled,
    leaseMs: config.handoff.leaseMs,
    ackDeadlineMs: config.handoff.ackDeadlineMs,
  };
}

/**
 * Where R2 takes a good config from. lifeguard's own snapshot first: it is the user's file byte for byte
 * and is back in milliseconds. OpenClaw's own last-known-good (restored by `doctor --fix`) only when
 * lifeguard has none: doctor takes 10-20 s, needs the Gateway stopped, and rewrites the file as plain JSON
 * with its own additions; and it only repairs an invalid config, not a valid one that crash-loops.
 */
export function restoreSourceFor(hasSnapshot: boolean, gatewayCopyUsable: boolean): 'gateway' | 'snapshot' | undefined {
  if (hasSnapshot) return 'snapshot';
  return gatewayCopyUsable ? 'gateway' : undefined;
}

/** The config guard's verdict on the main's config file. */
export interface ConfigVerdict {
  readonly valid: boolean | 'unknown';
  readonly detail: string;
  readonly hash?: string | undefined;
}

/** Who holds the repair lock, when it is not lifeguard itself. */
export interface RepairHolder {
  readonly who: string;
  readonly what: string;
}

/** Everything the supervisor gathered about one instance at one moment; `worldOf` and `holdOf` judge it. */
export interface InstanceFacts {
  readonly at: number;
  readonly instance: InstanceName;
  readonly self: DetectorSnapshot;
  readonly other: DetectorSnapshot;
  /** The state a transition went to, when a step reports one (the detector may have moved on since). */
  readonly health?: World['health'] | undefined;
  /** PM2's status of the app when it was asked (only while down), null when PM2 did not answer. */
  readonly pm2Status?: string | null | undefined;
  /** The main's config verdict; undefined for the rescue (not guarded). */
  readonly verdict?: ConfigVerdict | undefined;
  readonly newestSnapshotHash?: string | undefined;
  readonly gatewayRecoveryAvailable: boolean;
  readonly pausedUntil?: number | undefined;
  readonly pausedBy?: string | undefined;
  readonly incident?: IncidentCore | undefined;
  readonly actionsLastHour: number;
  readonly maxActionsPerHour: number;
  readonly repairHolder?: RepairHolder | undefined;
}

/** The rescue is inside its start-up grace: it may still come up. */
function coming(rescue: DetectorSnapshot, at: number): boolean {
  return (rescue.state === 'starting' || rescue.state === 'recovering') && rescue.graceUntil !== undefined && at < rescue.graceUntil;
}

/** Why no automated action may be taken for want of budget, naming the budget; undefined when there is room. */
export function budgetSpent(f: Pick<InstanceFacts, 'actionsLastHour' | 'maxActionsPerHour'>): string | undefined {
  if (f.actionsLastHour < f.maxActionsPerHour) return undefined;
  return `the budget of ${f.maxActionsPerHour} automated actions per hour is used up`;
}

/** The incident engine's view of one instance. Pure. */
export function worldOf(f: InstanceFacts): World {
  const s = { ...f.self, ...f.health };
  const processAlive = s.state !== 'down' || f.pm2Status === null || ALIVE_STATUSES.has(f.pm2Status ?? '');
  const verdict = f.verdict;
  const isMain = f.instance === 'main';
  const rescue = f.other;
  return {
    at: f.at,
    instance: f.instance,
    health: { state: s.state, classification: s.classification, reason: s.reason },
    processAlive,
    config: verdict ? { valid: verdict.valid, detail: verdict.detail, hash: verdict.hash } : undefined,
    configDiffersFromSnapshot: verdict?.hash !== undefined && f.newestSnapshotHash !== undefined && verdict.hash !== f.newestSnapshotHash,
    restoreSource: isMain ? restoreSourceFor(f.newestSnapshotHash !== undefined, verdict?.valid === false && f.gatewayRecoveryAvailable) : undefined,
    // A stopped rescue can be started for the handoff; one that is down for any other reason cannot help.
    rescueUsable: isMain && (rescue.state === 'healthy' || rescue.state === 'degraded' || (rescue.state === 'down' && rescue.classification === 'stopped')),
    rescueComing: isMain && coming(rescue, f.at),
    peerDown: f.other.state === 'down' && f.other.classification !== 'stopped',
    pausedUntil: f.pausedUntil,
    actionsLastHour: f.actionsLastHour,
    repairBy: f.repairHolder ? `${f.repairHolder.who} (${f.repairHolder.what})` : undefined,
    budgetSpent: budgetSpent(f),
    stoppedForConfig: s.state === 'down' && s.classification === 'config-invalid',
  };
}

/** Why automated restarts of an instance are held back now, if they are. Pure. */
export function holdOf(f: InstanceFacts): string | undefined {
  if (f.pausedUntil !== undefined && f.pausedUntil > f.at) return `paused by ${f.pausedBy ?? 'an operator'} until ${new Date(f.pausedUntil).toISOString()}`;
  if (f.repairHolder) return `${f.repairHolder.who} is running ${f.repairHolder.what}; lifeguard waits for it`;
  const incident = f.incident;
  if (leaseHeld(incident, f.at)) return `the rescue bot holds it until ${new Date(incident!.lease!.until).toISOString()} (incident ${incident!.id})`;
  if (incident?.frozen) return `incident ${incident.id} waits for a person (R4): ${ownerCommand(`incident ack ${incident.id}`)}`;
  if (f.verdict?.valid === false) return `its config is invalid (${f.verdict.detail}); lifeguard will not restart it into that`;
  return budgetSpent(f);
}

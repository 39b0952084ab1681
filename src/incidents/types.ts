import type { Classification } from '../detector/classify.js';
import type { HealthState } from '../detector/types.js';
import type { AlertEventName, Severity } from '../notify/types.js';

/**
 * The escalation ladder: R0 observe (the Gateway still runs, e.g. on a config it refused to reload),
 * R1 restart through PM2, R2 restore the last-known-good config, R3 hand to the rescue bot, R4 page a
 * human and freeze automation until an ack.
 */
export const RUNGS = ['R0', 'R1', 'R2', 'R3', 'R4'] as const;
export type Rung = (typeof RUNGS)[number];

/** What kind of trouble an incident is about, as the owner would name it. */
export type Problem = 'down' | 'degraded' | 'config-invalid';

/** The part of an incident the engine reasons with; plain JSON, persisted inside the incident record. */
export interface IncidentCore {
  readonly id: string;
  readonly instance: string;
  readonly status: 'open' | 'resolved';
  readonly openedAt: number;
  readonly problem: Problem;
  readonly classification: Classification | undefined;
  readonly severity: Severity;
  readonly summary: string;
  readonly rung: Rung;
  readonly rungSince: number;
  /** Automated actions taken at each rung in this incident (restarts, restores). */
  readonly attempts: Readonly<Record<Rung, number>>;
  /** R4: no automated action on this instance until someone acknowledges the incident. */
  readonly frozen: boolean;
  readonly ack: { readonly by: string; readonly at: number } | undefined;
  /** Healthy again since then; the incident resolves once that has lasted `resolveAfterMs`. */
  readonly recoveredAt: number | undefined;
  readonly resolvedAt: number | undefined;
  /**
   * R3: the rescue bot holds the main until `until` (lifeguard takes no automated action on it meanwhile);
   * it must acknowledge by `ackBy`.
   */
  readonly lease?: { readonly grantedAt: number; readonly until: number; readonly ackBy: number; readonly ackedAt?: number } | undefined;
  /** Why the handoff to the rescue failed (the rescue down, its workspace not writable, ...). */
  readonly handoffError?: string | undefined;
  /**
   * Why R4 froze the incident, when that reason can pass by itself: `rescue-unavailable` is looked at again
   * once the rescue is healthy (the handoff is made after all).
   */
  readonly frozenFor?: 'rescue-unavailable' | undefined;
  /** The content hash of the bad config that R2 last replaced: a different bad config is a new cause. */
  readonly repairedConfigHash?: string | undefined;
  /** When the owner was last told anything (reminders count from here). */
  readonly lastAlertAt: number;
  /** Alerts emitted per event, so the n-th alert of a kind always gets the same idempotency key. */
  readonly alertCounts: Readonly<Partial<Record<AlertEventName, number>>>;
}

/** What the engine knows about the world at the moment of a step; the shell gathers it fresh each time. */
export interface World {
  readonly at: number;
  readonly instance: string;
  readonly health: {
    readonly state: HealthState;
    readonly classification: Classification | undefined;
    readonly reason: string;
  };
  /** PM2 runs a process for the app (online, launching or restarting): it restarts crashes itself. */
  readonly processAlive: boolean;
  /** The instance's config file as the guard last judged it; undefined when not guarded (the rescue). */
  readonly config: { readonly valid: boolean | 'unknown'; readonly detail: string; readonly hash?: string | undefined } | undefined;
  /** The config on disk differs from the newest last-known-good snapshot. */
  readonly configDiffersFromSnapshot: boolean;
  /** Where R2 would take a good config from; undefined when there is none. */
  readonly restoreSource: 'gateway' | 'snapshot' | undefined;
  /** The rescue Gateway is up and answering (for the main's R3); false for the rescue itself. */
  readonly rescueUsable: boolean;
  /** The rescue is still inside its start-up grace: not usable yet, but coming (R3 waits for it). */
  readonly rescueComing?: boolean;
  /** Someone else holds the repair lock (an owner's restart, the rescue agent's restore): lifeguard waits. */
  readonly repairBy?: string | undefined;
  /** Why lifeguard may take no automated action now for want of budget, if so (names the budget). */
  readonly budgetSpent?: string | undefined;
  /** lifeguard stopped the Gateway because it refused its config, so PM2 will not start it again by itself. */
  readonly stoppedForConfig?: boolean;
  /** The other instance is down too: the host, not the Gateway, is the likely problem. */
  readonly peerDown: boolean;
  readonly pausedUntil: number | undefined;
  /** Automated actions (any instance, any rung) inside the last hour. */
  readonly actionsLastHour: number;
}

export interface EngineSettings {
  readonly reminderIntervalMs: number;
  readonly resolveAfterMs: number;
  readonly maxActionsPerHour: number;
  readonly restartAttempts: number;
  readonly restartDeadlineMs: number;
  readonly restoreAttempts: number;
  readonly restoreDeadlineMs: number;
  /** R3 exists only once the rescue handoff is wired; until then the ladder steps over it. */
  readonly handoffAvailable: boolean;
  readonly leaseMs: number;
  readonly ackDeadlineMs: number;
}

export type IncidentAction = 'restart' | 'restore' | 'handoff';

export type EngineEffect =
  | { readonly type: 'note'; readonly text: string }
  | {
      readonly type: 'alert';
      readonly event: AlertEventName;
      readonly severity: Severity;
      readonly summary: string;
      /** The n-th alert of this event in the incident (part of its idempotency key). */
      readonly sequence: number;
    }
  | { readonly type: 'act'; readonly rung: Rung; readonly action: IncidentAction; readonly reason: string };

export interface EngineResult {
  readonly incident: IncidentCore | undefined;
  readonly effects: readonly EngineEffect[];
}

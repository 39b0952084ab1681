import type { Classification } from './classify.js';

export type HealthState = 'starting' | 'healthy' | 'degraded' | 'suspect' | 'down' | 'recovering';

export interface DetectorSettings {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly startupGraceMs: number;
  readonly crashLoopExits: number;
  readonly crashLoopWindowMs: number;
  readonly maxRestartsPerHour: number;
  /** A failure streak must last this long on a calm machine before a live process is called hung. */
  readonly hangConfirmMs: number;
  /** ... and this long while the machine is busy or the Gateway is still settling after a start. */
  readonly busyHangConfirmMs: number;
  /** After a spawn, the Gateway is still finishing its start (plugins, channels, database checks) this long. */
  readonly settleMs: number;
  /** A probe that lifeguard itself ran this late (its own scheduling delay) is not counted against the Gateway. */
  readonly maxOwnLagMs: number;
  /** The first wait before starting again a Gateway that keeps dying of a failed network call; doubles each time. */
  readonly networkRetryMs: number;
  /** ... up to this. */
  readonly networkRetryMaxMs: number;
}

/**
 * What else was true when a probe failed, beyond "no answer in time": read from /proc by the shell, so
 * that a Gateway that is merely slow on a busy machine is told apart from a frozen or wedged one.
 */
export interface FailureEvidence {
  /** The Gateway process's state letter from /proc/<pid>/stat (R, S, D, T, t, Z, ...); undefined if unreadable. */
  readonly processState?: string | undefined;
  /** How late lifeguard's own probe ran (timer delay, or the probe overrunning its own time-outs), in ms. */
  readonly ownLagMs: number;
  /** Why the machine counts as busy now (CPU or I/O pressure, load), or undefined when it is calm. */
  readonly busy?: string | undefined;
  /**
   * The cores the Gateway process used since the previous failed probe (1 = one core flat out), or
   * undefined without an earlier reading of that same Gateway process (same pid, same start).
   */
  readonly cpuShare?: number | undefined;
}

/** Everything the detector remembers about one instance; plain JSON so it can be persisted. */
export interface DetectorSnapshot {
  readonly state: HealthState;
  readonly since: number;
  readonly reason: string;
  readonly classification: Classification | undefined;
  readonly pid: number | undefined;
  /** When the current start-up grace (after a spawn or a restart) runs out. */
  readonly graceUntil: number | undefined;
  readonly failStreak: number;
  /** When the current streak of failed probes began (undefined while probes pass). */
  readonly failingSince?: number | undefined;
  /** When PM2 spawned the current process (the settle window counts from it). */
  readonly spawnedAt?: number | undefined;
  /** The start-up grace was stretched once because the machine was busy. */
  readonly graceStretched?: boolean | undefined;
  /** The first start failed and PM2 is retrying it inside the grace that began with the first spawn. */
  readonly retryingStart?: boolean | undefined;
  /** Why the machine counted as busy at the last failed probe (stretches the grace at its deadline). */
  readonly lastBusy?: string | undefined;
  /** Consecutive probes that found it live. */
  readonly okStreak: number;
  /** Consecutive probes that found it live and ready. */
  readonly readyStreak: number;
  /** Consecutive probes that found it live but not ready. */
  readonly unreadyStreak: number;
  /** Unexpected exits inside the crash-loop window (timestamps). */
  readonly exits: readonly number[];
  /** Restarts lifeguard ordered inside the last hour (timestamps). */
  readonly restarts: readonly number[];
  /** The crash-loop breaker tripped: no automatic restarts until an operator starts the instance. */
  readonly breakerOpen: boolean;
  /** When lifeguard starts again a Gateway it stopped because it kept dying of a failed network call. */
  readonly retryAt?: number | undefined;
  /** lifeguard's starts after network deaths in the current episode: each one waits twice as long. */
  readonly networkRetry?: { readonly count: number; readonly lastAt: number } | undefined;
  /** A pid lifeguard itself killed; its exit is expected, not a crash. */
  readonly killedPid: number | undefined;
  /**
   * Why automated restarts are held back right now (a pause for planned work, an incident frozen at R4,
   * a config known to be invalid, the action budget); undefined when they are allowed.
   */
  readonly hold?: string | undefined;
}

export type DetectorEvent =
  | {
      type: 'probe'; at: number; live: boolean; ready: boolean; detail: string;
      /** PM2's status of the app, asked only after a failed probe: a stopping or restarting app is not hung. */
      processStatus?: string;
      /** Gathered only when the probe failed. */
      evidence?: FailureEvidence;
    }
  | { type: 'online'; at: number; pid: number; manual: boolean }
  | { type: 'exit'; at: number; pid: number | undefined; code: number | null; signal: string | null; manual: boolean;
      /** The Gateway's last output lines (stdout and stderr), and the stderr ones alone. */
      output: readonly string[]; errorOutput: readonly string[] }
  | { type: 'overlimit'; at: number }
  | { type: 'not-running'; at: number; status: string }
  | { type: 'tick'; at: number }
  /** The supervisor's verdict on whether automated restarts are allowed (undefined = allowed). */
  | { type: 'hold'; at: number; reason: string | undefined };

export type DetectorEffect =
  | { type: 'transition'; from: HealthState; to: HealthState; reason: string; classification: Classification | undefined }
  /** Restart through PM2; `kill` when the process cannot be trusted to stop by itself (SIGSTOPped, hung). */
  | { type: 'restart'; kill: boolean; pid: number | undefined; reason: string }
  /** Stop the PM2 app so PM2 stops looping a Gateway that cannot start. */
  | { type: 'stop'; reason: string }
  /** Start through PM2 an app lifeguard stopped (after waiting for the network). */
  | { type: 'start'; reason: string }
  /** Worth a line in the log and the incident's story, but no change of state (a failed first start PM2 retries). */
  | { type: 'note'; text: string };

export interface StepResult {
  readonly next: DetectorSnapshot;
  readonly effects: readonly DetectorEffect[];
}

import type { DetectorSettings } from '../../src/detector/types.js';
import type { EngineSettings } from '../../src/incidents/types.js';

/** The ladder's settings as the defaults have them; tests override what they are about. */
export function engineSettingsFor(patch: Partial<EngineSettings> = {}): EngineSettings {
  return {
    reminderIntervalMs: 3_600_000, resolveAfterMs: 60_000, maxActionsPerHour: 6, restartAttempts: 2,
    restartDeadlineMs: 240_000, restoreAttempts: 1, restoreDeadlineMs: 240_000, handoffAvailable: false,
    leaseMs: 600_000, ackDeadlineMs: 180_000, ...patch,
  };
}

/** The detector's settings with a 60 s grace and the load-aware windows as the defaults have them. */
export function detectorSettingsFor(patch: Partial<DetectorSettings> = {}): DetectorSettings {
  return {
    failureThreshold: 3, successThreshold: 2, startupGraceMs: 60_000, crashLoopExits: 4, crashLoopWindowMs: 600_000,
    maxRestartsPerHour: 4, hangConfirmMs: 4_000, busyHangConfirmMs: 20_000, settleMs: 120_000, maxOwnLagMs: 1_000,
    networkRetryMs: 30_000, networkRetryMaxMs: 900_000, ...patch,
  };
}

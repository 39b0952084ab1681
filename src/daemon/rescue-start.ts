import type { Pm2Client } from '../actions/pm2.js';
import type { HealthState } from '../detector/types.js';

/** How long a stopped rescue gets to come up before a handoff gives up on it. */
export const RESCUE_START_MS = 90_000;
const POLL_MS = 1_000;

export interface RescueStartDeps {
  readonly pm2: Pm2Client;
  readonly appName: string;
  readonly state: () => { readonly state: HealthState; readonly reason: string };
  /** PM2 is about to start it on lifeguard's request: its online event is not a crash recovery. */
  readonly noteRequested: () => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<unknown>;
  readonly warn: (error: unknown) => void;
}

/** The rescue must be up to take the main: started through PM2 if it is stopped, then given time to answer. */
export async function ensureRescue(deps: RescueStartDeps): Promise<{ ok: boolean; detail: string }> {
  const usable = () => ['healthy', 'degraded'].includes(deps.state().state);
  if (usable()) return { ok: true, detail: 'up' };
  const app = await deps.pm2.describe(deps.appName).catch(() => null);
  if (app?.status !== 'online') {
    deps.noteRequested();
    await deps.pm2.restart(deps.appName).catch(deps.warn);
  }
  const deadline = deps.now() + RESCUE_START_MS;
  while (deps.now() < deadline) {
    if (usable()) return { ok: true, detail: 'started' };
    await deps.sleep(POLL_MS);
  }
  return { ok: false, detail: `not healthy ${RESCUE_START_MS / 1000} s after starting it (${deps.state().reason})` };
}

import { classifyExit, describeExit, pickEvidence, type Classification } from './classify.js';
import type {
  DetectorEffect, DetectorEvent, DetectorSettings, DetectorSnapshot, HealthState, StepResult,
} from './types.js';

const HOUR_MS = 3_600_000;
const ORPHAN_NOTE = '; the port answers, but PM2 runs no process for it (an orphaned Gateway or a foreign process holds the port)';

export function initialSnapshot(at: number, settings: Pick<DetectorSettings, 'startupGraceMs'>): DetectorSnapshot {
  return {
    state: 'starting',
    since: at,
    reason: 'waiting for the first successful probe',
    classification: undefined,
    pid: undefined,
    graceUntil: at + settings.startupGraceMs,
    failStreak: 0,
    okStreak: 0,
    readyStreak: 0,
    unreadyStreak: 0,
    exits: [],
    restarts: [],
    breakerOpen: false,
    killedPid: undefined,
  };
}

/**
 * The snapshot after lifeguard itself restarts: the crash-loop window, the restart budget, the breaker
 * and a `down` verdict carry over, so a restart of the supervisor never resets its safety limits.
 * Probes and PM2 then re-establish everything else.
 */
export function resumeSnapshot(saved: DetectorSnapshot | undefined, at: number, settings: Pick<DetectorSettings, 'startupGraceMs' | 'crashLoopWindowMs'>): DetectorSnapshot {
  const fresh = initialSnapshot(at, settings);
  if (!saved) return fresh;
  const carried: DetectorSnapshot = {
    ...fresh,
    exits: saved.exits.filter((t) => at - t < settings.crashLoopWindowMs),
    restarts: saved.restarts.filter((t) => at - t < HOUR_MS),
    breakerOpen: saved.breakerOpen,
    hold: saved.hold,
    networkRetry: saved.networkRetry,
  };
  if (saved.state !== 'down') return carried;
  return { ...carried, state: 'down', since: saved.since, reason: saved.reason, classification: saved.classification, graceUntil: undefined, retryAt: saved.retryAt };
}

/**
 * The health state machine of one instance: pure, with time taken from the event. Effects are data the
 * daemon carries out (journal lines, PM2 restarts and stops).
 */
export function step(s: DetectorSnapshot, e: DetectorEvent, settings: DetectorSettings): StepResult {
  switch (e.type) {
    case 'probe':
      return onProbe(s, e, settings);
    case 'online':
      return onOnline(s, e, settings);
    case 'exit':
      return onExit(s, e, settings);
    case 'overlimit':
      return goDown(s, e.at, 'crash-looping', 'PM2 gave up restarting it (restart overlimit)', settings, { breaker: true, action: 'none' });
    case 'not-running':
      if (s.state === 'down') return { next: s, effects: [] };
      return goDown({ ...s, pid: undefined }, e.at, e.status === 'errored' ? 'crashed' : 'stopped', `PM2 reports it ${e.status}`, settings, { action: 'none' });
    case 'tick':
      if (s.state === 'down' && s.retryAt !== undefined && e.at >= s.retryAt) return startAfterNetworkWait(s, e.at, settings);
      return graceExpired(s, e.at, settings) ? startTimedOut(s, e.at, settings) : { next: s, effects: [] };
    case 'hold':
      return { next: { ...s, hold: e.reason }, effects: [] };
  }
}

type ProbeEvent = Extract<DetectorEvent, { type: 'probe' }>;

const PM2_TRANSITIONAL = new Set(['launching', 'waiting restart']);

function onProbe(s: DetectorSnapshot, e: ProbeEvent, settings: DetectorSettings): StepResult {
  if (!e.live && e.processStatus !== undefined && e.processStatus !== 'online') {
    // The failure is explained by PM2 itself: a stop in progress, a restart on its way, or nothing running.
    if (PM2_TRANSITIONAL.has(e.processStatus)) return { next: s, effects: [] };
    if (s.state === 'down' || s.state === 'recovering') return { next: s, effects: [] };
    const stopping = e.processStatus === 'stopping';
    const reason = stopping ? 'PM2 is stopping it (asked by an operator or by lifeguard)' : `PM2 reports it ${e.processStatus}`;
    return goDown({ ...s, pid: undefined }, e.at, e.processStatus === 'errored' ? 'crashed' : 'stopped', reason, settings, { action: 'none' });
  }
  const judged = e.live ? 'counted' : judgeFailure(e.evidence, settings);
  // lifeguard itself ran late (the machine starved it) or the process is already exiting: says nothing of the Gateway.
  if (judged === 'not-counted') return { next: s, effects: [] };
  const counted: DetectorSnapshot = e.live
    ? {
        ...s,
        failStreak: 0,
        failingSince: undefined,
        okStreak: s.okStreak + 1,
        readyStreak: e.ready ? s.readyStreak + 1 : 0,
        unreadyStreak: e.ready ? 0 : s.unreadyStreak + 1,
      }
    : {
        // A spinner's own load does not make the machine busy for it: no longer answer time, no longer grace.
        ...s, failStreak: s.failStreak + 1, failingSince: s.failingSince ?? e.at, lastBusy: spinning(e) ? undefined : e.evidence?.busy,
        okStreak: 0, readyStreak: 0, unreadyStreak: 0,
      };
  if (judged === 'frozen' && s.pid !== undefined && (isWatched(s.state) || s.state === 'starting' || s.state === 'recovering')) {
    // A stopped process (SIGSTOP, a debugger) answers nothing until someone resumes it: no point waiting.
    return goDown(counted, e.at, 'hung', `the process is stopped (state ${e.evidence?.processState}), not just slow: ${e.detail}`, settings, { action: 'kill' });
  }
  const liveState: HealthState = e.ready ? 'healthy' : 'degraded';
  const liveReason = e.ready ? 'probes pass' : `live but not ready: ${e.detail}`;
  if (e.live && s.pid === undefined && s.state !== 'down' && !isWatched(s.state)) {
    // An answer while PM2 runs no process for the app comes from an orphan or a stranger on the port.
    return { next: { ...counted, okStreak: 0, readyStreak: 0 }, effects: [] };
  }
  switch (s.state) {
    case 'starting':
      if (e.live) return transition(counted, liveState, e.at, liveReason, { graceUntil: undefined });
      return graceExpired(counted, e.at, settings) ? startTimedOut(counted, e.at, settings) : { next: counted, effects: [] };
    case 'recovering':
      if (e.live && counted.okStreak >= settings.successThreshold) {
        return transition(counted, liveState, e.at, `recovered: ${liveReason}`, { graceUntil: undefined, classification: undefined });
      }
      return graceExpired(counted, e.at, settings) ? startTimedOut(counted, e.at, settings) : { next: counted, effects: [] };
    case 'down':
      if (e.live && s.pid === undefined) {
        // Something answers on the port, but not a process PM2 runs for this app: an orphan or a stranger.
        const base = s.reason.split(ORPHAN_NOTE)[0];
        return { next: { ...counted, reason: `${base}${ORPHAN_NOTE}` }, effects: [] };
      }
      if (e.live && counted.okStreak >= settings.successThreshold) {
        return transition(counted, liveState, e.at, `answering again: ${liveReason}`, { classification: undefined });
      }
      if (!e.live && s.classification === 'hung' && s.pid !== undefined && restartAllowed(s, e.at, settings)) {
        // Still hung, and the hourly budget has room again.
        return goDown(counted, e.at, 'hung', `still no answer: ${e.detail}`, settings, { action: 'kill' });
      }
      return { next: counted, effects: [] };
    case 'healthy':
    case 'degraded':
    case 'suspect':
      return watchProbe(s.state, counted, e, settings);
  }
}

function watchProbe(state: HealthState, s: DetectorSnapshot, e: ProbeEvent, settings: DetectorSettings): StepResult {
  if (!e.live) {
    const failingForMs = e.at - (s.failingSince ?? e.at);
    const windowMs = confirmWindowMs(s, e, settings);
    if (s.failStreak >= settings.failureThreshold && failingForMs >= windowMs) {
      const settlingNow = settling(s, e.at, settings);
      const why = spinning(e) && !settlingNow ? ` (spinning: ${Math.round(e.evidence!.cpuShare! * 100)}% of a core)`
        : e.evidence?.busy ? ` (machine busy: ${e.evidence.busy})` : settlingNow ? ' (still settling after its start)' : '';
      const seconds = Math.round(failingForMs / 1000);
      return goDown(s, e.at, 'hung', `no answer for ${s.failStreak} probes over ${seconds} s while the process is alive${why}: ${e.detail}`, settings, { action: 'kill' });
    }
    if (state === 'suspect') return { next: s, effects: [] };
    return transition(s, 'suspect', e.at, `probe failed (${s.failStreak}/${settings.failureThreshold}): ${e.detail}`);
  }
  if (state === 'suspect') {
    if (s.okStreak < settings.successThreshold) return { next: s, effects: [] };
    return transition(s, e.ready ? 'healthy' : 'degraded', e.at, e.ready ? 'probes pass again' : `live but not ready: ${e.detail}`);
  }
  if (state === 'healthy' && !e.ready && s.unreadyStreak >= settings.failureThreshold) {
    return transition(s, 'degraded', e.at, `live but not ready: ${e.detail}`);
  }
  if (state === 'degraded' && s.readyStreak >= settings.successThreshold) {
    return transition(s, 'healthy', e.at, 'ready again');
  }
  return { next: s, effects: [] };
}

type OnlineEvent = Extract<DetectorEvent, { type: 'online' }>;

function onOnline(s: DetectorSnapshot, e: OnlineEvent, settings: DetectorSettings): StepResult {
  // A new process: the streaks of the old one say nothing about it (kubelet's "on hold until a new container").
  const fresh: DetectorSnapshot = {
    ...s,
    pid: e.pid,
    spawnedAt: e.at,
    failStreak: 0,
    failingSince: undefined,
    graceStretched: false,
    okStreak: 0,
    readyStreak: 0,
    unreadyStreak: 0,
    // A quiet retry of a failed first start stays inside the grace of the first spawn.
    graceUntil: s.state === 'starting' && s.retryingStart && s.graceUntil !== undefined ? s.graceUntil : e.at + settings.startupGraceMs,
    retryingStart: false,
    ...(e.manual ? { breakerOpen: false, exits: [], retryAt: undefined } : {}),
  };
  if (s.state === 'starting') return { next: fresh, effects: [] };
  // lifeguard restarted and meets the very process its carried-over verdict was about: nothing restarted.
  if (s.state === 'down' && !e.manual && e.at < s.since) return { next: { ...s, pid: e.pid, spawnedAt: e.at }, effects: [] };
  // PM2 can respawn once more before the stop ordered by the breaker (or a network wait) lands; that is not a recovery.
  if (s.state === 'down' && (s.breakerOpen || s.retryAt !== undefined) && !e.manual) return { next: { ...s, pid: e.pid, spawnedAt: e.at }, effects: [] };
  if (s.state === 'recovering') return { next: fresh, effects: [] };
  return transition(fresh, 'recovering', e.at, `started again (pid ${e.pid}), waiting for probes`);
}

type ExitEvent = Extract<DetectorEvent, { type: 'exit' }>;

function onExit(s: DetectorSnapshot, e: ExitEvent, settings: DetectorSettings): StepResult {
  const how = describeExit(e.code, e.signal);
  const gone: DetectorSnapshot = { ...s, pid: undefined };
  if (e.pid !== undefined && e.pid === s.killedPid) return { next: { ...gone, killedPid: undefined }, effects: [] };
  if (e.manual) {
    // Our own restarts and stops (and the stop that follows a breaker) are manual exits too.
    if (s.state === 'recovering' || s.state === 'down') return { next: gone, effects: [] };
    return goDown(gone, e.at, 'stopped', `stopped or restarted through PM2 by an operator (${how})`, settings, { action: 'none' });
  }
  const exits = [...s.exits.filter((t) => e.at - t < settings.crashLoopWindowMs), e.at];
  const counted: DetectorSnapshot = { ...gone, exits };
  const classification = classifyExit(e);
  const quoted = e.signal ? undefined : pickEvidence(e.errorOutput);
  const evidence = quoted ? `: ${quoted}` : '';
  if (classification !== 'config-invalid' && exits.length < settings.crashLoopExits && firstStartFailed(s, e.at, settings)) {
    // A Gateway's first start can fail for a passing reason on a busy machine (a state-lease time-out, a port
    // in TIME_WAIT). PM2 starts it again; only a start that never succeeds within the grace is an outage.
    return {
      next: { ...counted, retryingStart: true },
      effects: [{ type: 'note', text: `its first start failed (${how})${evidence}; PM2 starts it again, within the start-up grace` }],
    };
  }
  if (classification === 'config-invalid') {
    return goDown(counted, e.at, 'config-invalid', `the Gateway refused its config (${how})${evidence}`, settings, { action: 'stop' });
  }
  if (classification === 'network' && (exits.length >= settings.crashLoopExits || retriedLately(s, e.at, settings))) {
    return waitForNetwork(counted, e.at, `${how}${evidence}`, settings);
  }
  if (exits.length >= settings.crashLoopExits) {
    const minutes = Math.round(settings.crashLoopWindowMs / 60_000);
    return goDown(counted, e.at, 'crash-looping', `${exits.length} exits within ${minutes} min, last ${how}${evidence}; restarts stopped`, settings, { action: 'stop', breaker: true });
  }
  return goDown(counted, e.at, classification, `${how}${evidence}`, settings, { action: 'none' });
}

/**
 * A Gateway that keeps dying of a failed network call (Telegram unreachable) is not broken: restarting it
 * at once only burns CPU, restoring its config cannot help, and stopping it for good leaves the owner
 * without it once the network is back. lifeguard stops it and starts it again after a wait that doubles
 * with every start that dies the same way (30 s, 1 min, 2 min, ... up to 15 min).
 */
function waitForNetwork(s: DetectorSnapshot, at: number, how: string, settings: DetectorSettings): StepResult {
  const count = retriedLately(s, at, settings) ? s.networkRetry!.count : 0;
  const waitMs = Math.min(settings.networkRetryMs * 2 ** count, settings.networkRetryMaxMs);
  const reason = `${how}: it dies of a failed network call, which restarting at once cannot fix; lifeguard starts it again in ${spoken(waitMs)}, then less often (at least every ${spoken(settings.networkRetryMaxMs)}) until it stays up`;
  return goDown({ ...s, retryAt: at + waitMs, networkRetry: count === 0 ? undefined : s.networkRetry }, at, 'network', reason, settings, { action: 'stop' });
}

function spoken(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

/** lifeguard started it after a network wait, and it died again within the crash-loop window. */
function retriedLately(s: DetectorSnapshot, at: number, settings: DetectorSettings): boolean {
  return s.networkRetry !== undefined && at - s.networkRetry.lastAt < settings.crashLoopWindowMs;
}

function startAfterNetworkWait(s: DetectorSnapshot, at: number, settings: Pick<DetectorSettings, 'startupGraceMs'>): StepResult {
  // A pause, a repair under way, a frozen incident: the start waits for it like any other automated action.
  if (s.hold !== undefined) return { next: s, effects: [] };
  // waitForNetwork forgot the starts of an earlier episode: what is left belongs to this one.
  const count = (s.networkRetry?.count ?? 0) + 1;
  const reason = `lifeguard starts it again after waiting for the network (start ${count} of this outage)`;
  const next: DetectorSnapshot = { ...s, retryAt: undefined, networkRetry: { count, lastAt: at }, graceUntil: at + settings.startupGraceMs };
  const recovering = transition(next, 'recovering', at, reason, { classification: 'network' });
  return { next: recovering.next, effects: [{ type: 'start', reason }, ...recovering.effects] };
}

/** The process that exited was a fresh start that never answered, and the grace of the first spawn still runs. */
function firstStartFailed(s: DetectorSnapshot, at: number, settings: DetectorSettings): boolean {
  return s.state === 'starting' && s.spawnedAt !== undefined && s.graceUntil !== undefined && at < s.graceUntil && at - s.spawnedAt < settings.startupGraceMs;
}

/**
 * The grace is over, and the instance has not answered for a whole failure threshold: a Gateway that
 * was already running when lifeguard (re)started is judged like a watched one, not killed on one blip.
 */
function isWatched(state: HealthState): boolean {
  return state === 'healthy' || state === 'degraded' || state === 'suspect';
}

type FailureJudgement = 'counted' | 'frozen' | 'not-counted';

/** What one failed probe says about the Gateway, given what else was true when it failed. */
export function judgeFailure(evidence: ProbeEvent['evidence'], settings: DetectorSettings): FailureJudgement {
  if (!evidence) return 'counted';
  if (evidence.ownLagMs > settings.maxOwnLagMs) return 'not-counted';
  const state = evidence.processState;
  // Z: a zombie, X: dead. PM2's exit event tells the rest; killing it again would hit nothing or a stranger.
  if (state === 'Z' || state === 'X') return 'not-counted';
  if (state === 'T' || state === 't') return 'frozen';
  return 'counted';
}

/**
 * How long a failure streak must last before a live process is called hung. Short on a calm machine; stretched
 * while the machine is busy (a late answer is the machine's fault, and a restart under load only adds to it)
 * and while the Gateway is still finishing its start-up work after a spawn.
 */
export function confirmWindowMs(s: DetectorSnapshot, e: ProbeEvent, settings: DetectorSettings): number {
  if (settling(s, e.at, settings)) return settings.busyHangConfirmMs;
  // A Gateway that gets a whole core and still does not answer is not waiting for the CPU: it spins (a
  // blocked event loop). The machine may look busy, but what keeps it busy is the Gateway itself.
  if (spinning(e)) return settings.hangConfirmMs;
  return e.evidence?.busy ? settings.busyHangConfirmMs : settings.hangConfirmMs;
}

/** The share of a core past which a Gateway that does not answer counts as spinning rather than starved. */
const SPINNING_CPU_SHARE = 0.8;

function spinning(e: ProbeEvent): boolean {
  return (e.evidence?.cpuShare ?? 0) >= SPINNING_CPU_SHARE;
}

function settling(s: DetectorSnapshot, at: number, settings: DetectorSettings): boolean {
  return s.spawnedAt !== undefined && at - s.spawnedAt < settings.settleMs;
}

function graceExpired(s: DetectorSnapshot, at: number, settings: DetectorSettings): boolean {
  const waiting = s.state === 'starting' || s.state === 'recovering';
  return waiting && s.graceUntil !== undefined && at >= s.graceUntil && (s.pid === undefined || s.failStreak >= settings.failureThreshold);
}

/** lifeguard's own restarts inside the last hour: the budget's sliding window. */
function recentRestarts(s: DetectorSnapshot, at: number): number[] {
  return s.restarts.filter((t) => at - t < HOUR_MS);
}

function restartAllowed(s: DetectorSnapshot, at: number, settings: DetectorSettings): boolean {
  return !s.breakerOpen && s.hold === undefined && recentRestarts(s, at).length < settings.maxRestartsPerHour;
}

function startTimedOut(s: DetectorSnapshot, at: number, settings: DetectorSettings): StepResult {
  const seconds = Math.round(settings.startupGraceMs / 1000);
  if (s.pid !== undefined && s.lastBusy && !s.graceStretched) {
    // A cold start on a loaded machine can take longer than on a calm one: one more half grace, said out loud.
    const extra = Math.round(settings.startupGraceMs / 2);
    return {
      next: { ...s, graceStretched: true, graceUntil: at + extra },
      effects: [{ type: 'note', text: `no successful probe within the ${seconds} s start-up grace, but the machine is busy (${s.lastBusy}): waiting ${Math.round(extra / 1000)} s more before calling it hung` }],
    };
  }
  if (s.pid === undefined) {
    return goDown(s, at, 'crashed', `not running ${seconds} s after start`, settings, { action: 'none' });
  }
  return goDown(s, at, 'hung', `no successful probe within the ${seconds} s start-up grace`, settings, { action: 'kill' });
}

interface DownOptions {
  readonly action: 'none' | 'kill' | 'stop';
  readonly breaker?: boolean;
}

function goDown(
  s: DetectorSnapshot,
  at: number,
  classification: Classification,
  reason: string,
  settings: DetectorSettings,
  options: DownOptions,
): StepResult {
  const breakerOpen = s.breakerOpen || options.breaker === true;
  const down = transition({ ...s, breakerOpen, graceUntil: undefined }, 'down', at, reason, { classification });
  if (options.action === 'stop') {
    return { next: down.next, effects: [...down.effects, { type: 'stop', reason }] };
  }
  if (options.action !== 'kill') return down;
  const restarts = recentRestarts(s, at);
  if (breakerOpen || restarts.length >= settings.maxRestartsPerHour || s.hold !== undefined) {
    const why = breakerOpen ? 'crash-loop breaker open' : s.hold ?? `restart budget of ${settings.maxRestartsPerHour} per hour used up`;
    return { next: { ...down.next, reason: `${reason}; not restarting: ${why}`, restarts }, effects: down.effects };
  }
  const restart: DetectorEffect = { type: 'restart', kill: true, pid: s.pid, reason };
  const recovering = transition(
    { ...down.next, restarts: [...restarts, at], killedPid: s.pid, graceUntil: at + settings.startupGraceMs },
    'recovering',
    at,
    `lifeguard restarted it (${classification})`,
    { classification },
  );
  return { next: recovering.next, effects: [...down.effects, restart, ...recovering.effects] };
}

function transition(
  s: DetectorSnapshot,
  to: HealthState,
  at: number,
  reason: string,
  patch: Partial<Pick<DetectorSnapshot, 'graceUntil' | 'classification'>> = {},
): StepResult {
  const next: DetectorSnapshot = { ...s, ...patch, state: to, reason, since: s.state === to ? s.since : at };
  if (s.state === to) return { next, effects: [] };
  return {
    next,
    effects: [{ type: 'transition', from: s.state, to, reason, classification: next.classification }],
  };
}

import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { formatDuration } from '../core/duration.js';

export type Pm2Reachability = 'reachable' | 'lost';

export interface Pm2WatchSettings {
  /** Consecutive failed calls before the daemon counts as lost... */
  readonly failuresToLose: number;
  /** ...which must also span this long, so a daemon restarting (a few quick refusals) is not a loss. */
  readonly minLossSpanMs: number;
  /** Consecutive answered calls before a lost daemon counts as reachable again. */
  readonly successesToRecover: number;
  /** Bus traffic this recent shows the daemon process alive, only slow to answer calls: the verdict waits... */
  readonly busShowsAliveMs: number;
  /** ...but no longer than this: a daemon that publishes events yet answers no call is no use to lifeguard. */
  readonly maxBusHoldMs: number;
}

export const DEFAULT_PM2_WATCH_SETTINGS: Pm2WatchSettings = {
  failuresToLose: 3,
  minLossSpanMs: 20_000,
  successesToRecover: 2,
  busShowsAliveMs: 20_000,
  maxBusHoldMs: 60_000,
};

/** Plain data, so the decision is a pure function of it and the next event. */
export interface Pm2WatchState {
  readonly reachability: Pm2Reachability;
  readonly since: number;
  readonly failStreak: number;
  /** When the current run of failed calls began. */
  readonly firstFailAt: number | undefined;
  readonly lastFailure: string | undefined;
  readonly okStreak: number;
  readonly lastBusAt: number | undefined;
}

export type Pm2WatchEvent =
  /** A PM2 call answered, or failed (an error, or no answer in time: `detail` says which). */
  | { readonly type: 'call'; readonly at: number; readonly ok: true }
  | { readonly type: 'call'; readonly at: number; readonly ok: false; readonly detail: string }
  /** Anything arrived on PM2's event bus (a process event, a log line). */
  | { readonly type: 'bus'; readonly at: number };

export interface Pm2Transition {
  readonly from: Pm2Reachability;
  readonly to: Pm2Reachability;
  readonly at: number;
  readonly reason: string;
}

/** lifeguard has just connected to PM2 when the watch starts, so it starts out reachable. */
export function initialPm2WatchState(at: number): Pm2WatchState {
  return { reachability: 'reachable', since: at, failStreak: 0, firstFailAt: undefined, lastFailure: undefined, okStreak: 0, lastBusAt: undefined };
}

export function stepPm2Watch(
  state: Pm2WatchState,
  event: Pm2WatchEvent,
  settings: Pm2WatchSettings = DEFAULT_PM2_WATCH_SETTINGS,
): { next: Pm2WatchState; transition: Pm2Transition | undefined } {
  if (event.type === 'bus') return { next: { ...state, lastBusAt: event.at }, transition: undefined };
  const { at } = event;
  if (event.ok) {
    const okStreak = state.okStreak + 1;
    const cleared = { ...state, failStreak: 0, firstFailAt: undefined, lastFailure: undefined, okStreak };
    if (state.reachability === 'reachable' || okStreak < settings.successesToRecover) return { next: cleared, transition: undefined };
    const reason = `PM2 daemon answering again after ${formatDuration(at - state.since)}`;
    return { next: { ...cleared, reachability: 'reachable', since: at }, transition: { from: 'lost', to: 'reachable', at, reason } };
  }
  const firstFailAt = state.firstFailAt ?? at;
  const failing = { ...state, failStreak: state.failStreak + 1, firstFailAt, lastFailure: event.detail, okStreak: 0 };
  if (state.reachability === 'lost') return { next: failing, transition: undefined };
  const span = at - firstFailAt;
  const busAlive = state.lastBusAt !== undefined && at - state.lastBusAt < settings.busShowsAliveMs;
  if (failing.failStreak < settings.failuresToLose || span < settings.minLossSpanMs || (busAlive && span < settings.maxBusHoldMs)) {
    return { next: failing, transition: undefined };
  }
  const reason = busAlive
    ? `PM2 daemon not answering calls for ${formatDuration(span)} (its event bus still speaks): ${event.detail}`
    : `PM2 daemon not answering for ${formatDuration(span)}: ${event.detail}`;
  // Lost since the first unanswered call, so "answering again after ..." is the length of the outage.
  return { next: { ...failing, reachability: 'lost', since: firstFailAt }, transition: { from: 'reachable', to: 'lost', at, reason } };
}

export interface Pm2WatchOptions {
  /** One cheap PM2 call (`pm2.list()`); a rejection counts as a failed call. */
  readonly check: () => Promise<unknown>;
  readonly onChange: (transition: Pm2Transition) => void;
  readonly log: Logger;
  readonly intervalMs?: number;
  /** A call without an answer this long counts as failed, whatever the client's own, longer timeout. */
  readonly timeoutMs?: number;
  readonly settings?: Pm2WatchSettings;
}

const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Polls PM2 and reports when its daemon is lost and when it is back. The next call starts only after
 * the previous one answered or timed out; a call that timed out may still be pending in the client,
 * which bounds it with its own timeout.
 */
export class Pm2Watch {
  private current: Pm2WatchState;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: Pm2WatchOptions) {
    this.current = initialPm2WatchState(Date.now());
  }

  get state(): Pm2WatchState {
    return this.current;
  }

  get reachable(): boolean {
    return this.current.reachability === 'reachable';
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Feed every bus packet here; it costs one object copy. */
  noteBusActivity(): void {
    this.apply({ type: 'bus', at: Date.now() });
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  private async poll(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      deadline = setTimeout(() => resolve(`no answer within ${formatDuration(timeoutMs)}`), timeoutMs);
    });
    // Through a promise, so a check that throws at once counts as a failed call, not a crash.
    const answered = Promise.resolve().then(() => this.options.check()).then(
      () => undefined,
      (error: unknown) => errorMessage(error),
    );
    const failure = await Promise.race([answered, timedOut]);
    clearTimeout(deadline);
    if (this.stopped) return;
    const at = Date.now();
    this.apply(failure === undefined ? { type: 'call', at, ok: true } : { type: 'call', at, ok: false, detail: failure });
    this.schedule();
  }

  private apply(event: Pm2WatchEvent): void {
    const { next, transition } = stepPm2Watch(this.current, event, this.options.settings);
    this.current = next;
    if (!transition) return;
    try {
      this.options.onChange(transition);
    } catch (error) {
      // The watch must outlive a bug in what reacts to it.
      this.options.log.error({ err: error, transition }, 'reacting to a PM2 reachability change failed');
    }
  }
}

import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { WatcherTimers } from '../guard/config-watcher.js';
import { credentialUrlSecrets, sendHttp, textRequest } from '../notify/http.js';
import { snippet } from '../notify/snippet.js';

export type IntervalTimers = Pick<WatcherTimers, 'setInterval' | 'clearInterval'>;

export interface HeartbeatOptions {
  /** The check's ping URL (healthchecks.io style); it is a credential, so only its origin is ever logged. */
  readonly url: string;
  readonly intervalMs: number;
  /** What to report now; `detail` becomes the ping's body, so it must be free of secrets. */
  readonly verdict: () => { ok: boolean; detail: string };
  readonly log: Logger;
  readonly timeoutMs?: number;
  readonly timers?: IntervalTimers;
}

export interface Heartbeat {
  /** Pings now (after the one in flight, if any), e.g. as soon as PM2 is lost rather than at the next interval. */
  pingNow(): Promise<void>;
  stop(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const SYSTEM_TIMERS: IntervalTimers = {
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * A dead man's switch: pings `url` while all is well and `url/fail` when not, so the service behind it
 * alerts when the pings stop (lifeguard, PM2 or the host is gone) as well as on a failure. Both are
 * POSTs, whose text body the service shows with the ping. Pings never overlap and never throw: a failed
 * one is logged, and the next interval tries again.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { log } = options;
  const timers = options.timers ?? SYSTEM_TIMERS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = credentialUrlSecrets(options.url);
  const origin = new URL(options.url).origin;
  const failUrl = withPathSuffix(options.url, 'fail');
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let lastFailure: string | undefined;

  const pingOnce = async (): Promise<void> => {
    const { ok, detail } = options.verdict();
    const request = textRequest(ok ? options.url : failUrl, snippet(detail, secrets), {});
    try {
      await sendHttp(request, AbortSignal.any([stopping.signal, AbortSignal.timeout(timeoutMs)]), { secrets });
      if (lastFailure !== undefined) log.info({ to: origin }, 'heartbeat delivered again');
      lastFailure = undefined;
      log.debug({ to: origin, ok }, 'heartbeat delivered');
    } catch (error) {
      if (stopping.signal.aborted) return;
      const failure = errorMessage(error);
      // A receiver that stays down would otherwise log the same warning every interval.
      if (failure !== lastFailure) log.warn({ to: origin, error: failure }, 'heartbeat not delivered; the next interval tries again');
      lastFailure = failure;
    }
  };

  const run = (): Promise<void> => {
    running = pingOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const pingNow = (): Promise<void> => {
    if (stopping.signal.aborted) return Promise.resolve();
    if (queued) return queued;
    if (!running) return run();
    queued = running.then(() => {
      queued = undefined;
      return stopping.signal.aborted ? undefined : run();
    });
    return queued;
  };

  const interval = timers.setInterval(() => {
    // A ping still in flight (a slow receiver) stands for this interval's.
    if (!running) void run();
  }, options.intervalMs);
  log.info({ to: origin, everyMs: options.intervalMs }, 'heartbeat started');
  void pingNow();

  return {
    pingNow,
    stop() {
      timers.clearInterval(interval);
      stopping.abort();
    },
  };
}

/** `https://hc-ping.com/<uuid>?create=1` + `fail` is `https://hc-ping.com/<uuid>/fail?create=1`. */
function withPathSuffix(url: string, segment: string): string {
  const parsed = new URL(url);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/${segment}`;
  return parsed.toString();
}

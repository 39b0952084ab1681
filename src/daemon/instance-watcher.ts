import type { Logger } from 'pino';
import type { ResolvedInstance } from '../config/instance.js';
import { step } from '../detector/machine.js';
import type { DetectorEffect, DetectorEvent, DetectorSettings, DetectorSnapshot, FailureEvidence } from '../detector/types.js';
import type { ProbeCycleResult } from '../probes/cycle.js';
import type { InstanceStatus } from './status-store.js';

export interface WatcherDeps {
  readonly settings: DetectorSettings;
  readonly log: Logger;
  /** One probe cycle with the given time-out per request. */
  readonly probe: (timeoutMs: number) => Promise<ProbeCycleResult>;
  readonly probeTimeoutMs: number;
  /** What /proc says when a probe failed: the process's state, and whether the machine is busy. */
  readonly failureFacts: (pid: number | undefined) => Promise<Omit<FailureEvidence, 'ownLagMs'>>;
  /** PM2's status of the app, asked after a failed probe; undefined when PM2 cannot tell. */
  readonly processStatus: () => Promise<string | undefined>;
  readonly execute: (effect: DetectorEffect) => Promise<void>;
  /** Something to record: `urgent` when the state changed or an action ran, else a routine probe result. */
  readonly onChange: (urgent: boolean) => void;
  readonly now: () => number;
  readonly intervalMs: number;
  /** Sooner re-probes while a failure is being confirmed, so a hang is called in seconds, not minutes. */
  readonly retryIntervalMs: number;
}

/** While confirming a failure on a busy machine, each probe may take this many times its usual time-out. */
const BUSY_TIMEOUT_FACTOR = 3;

/**
 * The shell around the pure detector for one instance: feeds it probe results and PM2 events in order,
 * and carries out its effects. Timers live here and nowhere below.
 */
export class InstanceWatcher {
  private snapshot: DetectorSnapshot;
  private lastProbe: InstanceStatus['lastProbe'];
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** When the next probe cycle was due: a cycle that starts much later says lifeguard itself was starved. */
  private dueAt = 0;
  private stopped = false;
  private deps: WatcherDeps;

  constructor(readonly instance: ResolvedInstance, initial: DetectorSnapshot, deps: WatcherDeps) {
    this.snapshot = initial;
    this.deps = deps;
  }

  /** New probe settings (the config was edited): the next cycle and the next event use them. */
  reconfigure(settings: Pick<WatcherDeps, 'settings' | 'intervalMs' | 'retryIntervalMs' | 'probeTimeoutMs'>): void {
    this.deps = { ...this.deps, ...settings };
  }

  get state(): DetectorSnapshot {
    return this.snapshot;
  }

  status(): InstanceStatus {
    return {
      instance: this.instance.name,
      appName: this.instance.appName,
      flavour: this.instance.flavour,
      port: this.instance.port,
      configPath: this.instance.configPath,
      detector: this.snapshot,
      lastProbe: this.lastProbe,
    };
  }

  /** Events are applied one at a time, in arrival order, so effects never interleave. */
  dispatch(event: DetectorEvent): Promise<void> {
    this.queue = this.queue.then(() => this.apply(event)).catch((error: unknown) => {
      this.deps.log.error({ err: error, instance: this.instance.name }, 'event handling failed');
    });
    return this.queue;
  }

  start(): void {
    // Jitter the first probe so two watchers started together do not probe in lockstep.
    this.schedule(Math.round(Math.random() * Math.min(500, this.deps.intervalMs)));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.dueAt = this.deps.now() + delayMs;
    this.timer = setTimeout(() => void this.cycle(), delayMs);
  }

  private async cycle(): Promise<void> {
    const started = this.deps.now();
    try {
      // While a failure on a busy machine is being confirmed, the Gateway gets longer to answer.
      const timeoutMs = this.snapshot.failStreak > 0 && this.snapshot.lastBusy ? this.deps.probeTimeoutMs * BUSY_TIMEOUT_FACTOR : this.deps.probeTimeoutMs;
      const result = await this.deps.probe(timeoutMs);
      this.lastProbe = { at: result.at, live: result.live, ready: result.ready, latencyMs: result.latencyMs, detail: result.detail };
      const processStatus = result.live ? undefined : await this.deps.processStatus();
      const evidence = result.live ? undefined : await this.evidence(started, timeoutMs);
      await this.dispatch({
        type: 'probe', at: this.deps.now(), live: result.live, ready: result.ready, detail: result.detail,
        ...(processStatus === undefined ? {} : { processStatus }),
        ...(evidence ? { evidence } : {}),
      });
    } catch (error) {
      this.deps.log.error({ err: error, instance: this.instance.name }, 'probe cycle failed');
    }
    this.deps.onChange(false);
    const interval = this.snapshot.state === 'suspect' ? this.deps.retryIntervalMs : this.deps.intervalMs;
    this.schedule(Math.max(0, interval - (this.deps.now() - started)));
  }

  /**
   * lifeguard's own lag: how late the cycle started, or how far the probe overran its own time-outs (at
   * most two HTTP requests in a row, the WebSocket beside them). Either means lifeguard did not get the CPU
   * to judge the Gateway's answer time.
   */
  private async evidence(started: number, timeoutMs: number): Promise<FailureEvidence> {
    const lateStart = Math.max(0, started - this.dueAt);
    const overrun = Math.max(0, this.deps.now() - started - 2 * timeoutMs);
    const facts = await this.deps.failureFacts(this.snapshot.pid);
    return { ...facts, ownLagMs: Math.max(lateStart, overrun) };
  }

  private async apply(event: DetectorEvent): Promise<void> {
    const { next, effects } = step(this.snapshot, event, this.deps.settings);
    this.snapshot = next;
    for (const effect of effects) await this.deps.execute(effect);
    if (effects.length > 0) this.deps.onChange(true);
  }
}

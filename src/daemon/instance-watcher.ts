import type { Logger } from 'pino';
import type { ResolvedInstance } from '../config/instance.js';
import { step } from '../detector/machine.js';
import type { DetectorEffect, DetectorEvent, DetectorSettings, DetectorSnapshot } from '../detector/types.js';
import type { ProbeCycleResult } from '../probes/cycle.js';
import type { InstanceStatus } from './status-store.js';

export interface WatcherDeps {
  readonly settings: DetectorSettings;
  readonly log: Logger;
  readonly probe: () => Promise<ProbeCycleResult>;
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

/**
 * The shell around the pure detector for one instance: feeds it probe results and PM2 events in order,
 * and carries out its effects. Timers live here and nowhere below.
 */
export class InstanceWatcher {
  private snapshot: DetectorSnapshot;
  private lastProbe: InstanceStatus['lastProbe'];
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private deps: WatcherDeps;

  constructor(readonly instance: ResolvedInstance, initial: DetectorSnapshot, deps: WatcherDeps) {
    this.snapshot = initial;
    this.deps = deps;
  }

  /** New probe settings (the config was edited): the next cycle and the next event use them. */
  reconfigure(settings: Pick<WatcherDeps, 'settings' | 'intervalMs' | 'retryIntervalMs'>): void {
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
    this.timer = setTimeout(() => void this.cycle(), delayMs);
  }

  private async cycle(): Promise<void> {
    const started = this.deps.now();
    try {
      const result = await this.deps.probe();
      this.lastProbe = { at: result.at, live: result.live, ready: result.ready, latencyMs: result.latencyMs, detail: result.detail };
      const processStatus = result.live ? undefined : await this.deps.processStatus();
      await this.dispatch({
        type: 'probe', at: this.deps.now(), live: result.live, ready: result.ready, detail: result.detail,
        ...(processStatus === undefined ? {} : { processStatus }),
      });
    } catch (error) {
      this.deps.log.error({ err: error, instance: this.instance.name }, 'probe cycle failed');
    }
    this.deps.onChange(false);
    const interval = this.snapshot.state === 'suspect' ? this.deps.retryIntervalMs : this.deps.intervalMs;
    this.schedule(Math.max(0, interval - (this.deps.now() - started)));
  }

  private async apply(event: DetectorEvent): Promise<void> {
    const { next, effects } = step(this.snapshot, event, this.deps.settings);
    this.snapshot = next;
    for (const effect of effects) await this.deps.execute(effect);
    if (effects.length > 0) this.deps.onChange(true);
  }
}

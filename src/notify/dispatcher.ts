import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import { redactStrings, redactText } from '../secrets/redact.js';
import type { AlertSettings } from '../config/schema.js';
import { Outbox, type Delivery } from './outbox.js';
import { wants, type ConfiguredProvider } from './registry.js';
import { DeliveryError, type Alert, type GatewayAccess } from './types.js';

export interface DispatcherDeps {
  readonly outbox: Outbox;
  readonly providers: readonly ConfiguredProvider[];
  readonly settings: Pick<AlertSettings, 'attemptTimeoutMs' | 'retryMaxDelayMs' | 'giveUpAfterMs'>;
  readonly log: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly rescueGateway: () => GatewayAccess | undefined;
  /** Every change of a delivery's state: a failed attempt (still pending), delivered, or given up. */
  readonly onUpdate: (delivery: Delivery) => void;
  readonly now: () => number;
  /** 0 ≤ x < 1, for the retry jitter. */
  readonly random?: () => number;
}

/** A provider's retry schedule: consecutive failed passes, and when the alerts it still owes are tried again. */
interface Backoff {
  failures: number;
  retryAt: number;
}

const FIRST_RETRY_MS = 1_000;

/**
 * Sends what is in the outbox: one worker per provider, so a receiver that is down, slow or answering
 * garbage delays only its own deliveries. A new alert is tried at once, after at most the attempt in
 * flight: an alert that keeps failing never holds a newer one back (the newer is delivered, the older
 * keeps retrying beside it, and its record says `overtakenBy`). Alerts a provider still owes are retried
 * together, oldest first, with exponential backoff and jitter, until each is delivered, fails for good
 * (a 4xx other than 429) or is older than `giveUpAfterMs`.
 */
export class Dispatcher {
  private readonly workers = new Map<string, Promise<void>>();
  private readonly kicked = new Set<string>();
  private readonly wakers = new Map<string, () => void>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly stopping = new AbortController();
  private providers: readonly ConfiguredProvider[];

  constructor(private readonly deps: DispatcherDeps) {
    this.providers = deps.providers;
  }

  /**
   * Sends through these providers from now on (the config was edited). A delivery already queued for a
   * provider that is gone fails as "no longer configured"; one that stays keeps its queue and retries.
   */
  setProviders(providers: readonly ConfiguredProvider[]): void {
    this.providers = providers;
    void this.resume();
  }

  get providerNames(): string[] {
    return this.providers.map((p) => p.name);
  }

  /** Queues an alert for every provider that wants it, then sends. */
  async enqueue(alert: Alert): Promise<Delivery[]> {
    const added = await queueAlert(this.deps.outbox, this.providers, alert, this.deps.now());
    for (const delivery of added) this.deps.onUpdate(delivery);
    for (const name of new Set(added.map((d) => d.provider))) this.kick(name);
    return added;
  }

  /** Picks up whatever is pending (left by a previous run, or queued by a CLI command). */
  async resume(): Promise<void> {
    const pending = await this.deps.outbox.pending();
    for (const name of new Set(pending.map((d) => d.provider))) this.kick(name);
  }

  /** Resolves once every worker has nothing left to do (tests and shutdown use it). */
  async drained(): Promise<void> {
    while (this.workers.size > 0) await Promise.all(this.workers.values());
  }

  close(): void {
    this.stopping.abort(new Error('lifeguard is stopping'));
    for (const wake of this.wakers.values()) wake();
  }

  private kick(provider: string): void {
    this.kicked.add(provider);
    this.wakers.get(provider)?.();
    if (this.workers.has(provider)) return;
    const work = this.work(provider)
      .catch((error: unknown) => this.deps.log.error({ err: error, provider }, 'notification worker failed'))
      .finally(() => {
        this.workers.delete(provider);
        if (this.kicked.has(provider) && !this.stopping.signal.aborted) this.kick(provider);
      });
    this.workers.set(provider, work);
  }

  private async work(name: string): Promise<void> {
    const backoff = this.backoff.get(name) ?? { failures: 0, retryAt: 0 };
    this.backoff.set(name, backoff);
    while (!this.stopping.signal.aborted) {
      this.kicked.delete(name);
      const queue = (await this.deps.outbox.pending()).filter((d) => d.provider === name);
      if (queue.length === 0) return;
      const retrying = this.deps.now() >= backoff.retryAt;
      const batch = queue.filter((d) => retrying || d.attempts === 0);
      let failed = false;
      let delivered = false;
      for (const delivery of batch) {
        if (this.stopping.signal.aborted) return;
        const outcome = await this.deliverOnce(delivery);
        failed ||= outcome === 'retry';
        delivered ||= outcome === 'delivered';
      }
      if (failed) {
        backoff.failures += 1;
        backoff.retryAt = this.deps.now() + this.retryDelay(backoff.failures);
      } else if (delivered) {
        // The receiver works again: what it still owes goes now, oldest first.
        backoff.failures = 0;
        backoff.retryAt = 0;
      }
      if (batch.length > 0 || this.kicked.has(name)) continue;
      await this.pause(name, backoff.retryAt - this.deps.now());
    }
  }

  private retryDelay(failures: number): number {
    const base = FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 30);
    return Math.min(this.deps.settings.retryMaxDelayMs, base * (1 + (this.deps.random ?? Math.random)()));
  }

  /** Sleeps until the next retry, a new alert for this provider, or shutdown. */
  private pause(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(name);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.wakers.set(name, wake);
    });
  }

  /** One attempt for one delivery. */
  private async deliverOnce(queued: Delivery): Promise<'delivered' | 'retry' | 'settled'> {
    const provider = this.providers.find((p) => p.name === queued.provider);
    if (!provider) {
      await this.settle({ ...queued, status: 'failed', lastError: 'provider no longer configured' });
      return 'settled';
    }
    const { settings, now } = this.deps;
    const attempts = queued.attempts + 1;
    try {
      await this.attempt(provider, queued.alert);
    } catch (error) {
      if (this.stopping.signal.aborted) return 'settled'; // stays pending: the next run sends it
      const failed = { ...queued, attempts, lastAttemptAt: now(), lastError: describe(error, provider) };
      const permanent = error instanceof DeliveryError && !error.retryable;
      if (permanent || now() - queued.createdAt >= settings.giveUpAfterMs) {
        await this.settle({ ...failed, status: 'failed' });
        return 'settled';
      }
      this.deps.log.warn({ provider: provider.name, alert: queued.alert.idempotencyKey, attempts, error: failed.lastError }, 'alert delivery failed');
      await this.deps.outbox.save(failed);
      this.deps.onUpdate(failed);
      return 'retry';
    }
    await this.settle({ ...queued, attempts, status: 'delivered', lastAttemptAt: now() });
    await this.markOvertaken(queued);
    return 'delivered';
  }

  /** Older alerts to the same provider that are still failing: a newer one went out before them. */
  private async markOvertaken(newer: Delivery): Promise<void> {
    const failing = (await this.deps.outbox.pending())
      .filter((d) => d.provider === newer.provider && d.createdAt < newer.createdAt && d.attempts > 0 && !d.overtakenBy);
    for (const older of failing) {
      const marked = { ...older, overtakenBy: newer.alert.idempotencyKey };
      await this.deps.outbox.save(marked);
      this.deps.log.warn({ provider: older.provider, alert: older.alert.idempotencyKey, overtakenBy: newer.alert.idempotencyKey }, 'newer alert delivered while this one keeps failing; still retrying it');
      this.deps.onUpdate(marked);
    }
  }

  private attempt(provider: ConfiguredProvider, alert: Alert): Promise<void> {
    return sendAlert(provider, alert, {
      timeoutMs: this.deps.settings.attemptTimeoutMs, signal: this.stopping.signal, env: this.deps.env, rescueGateway: this.deps.rescueGateway(),
    });
  }

  private async settle(delivery: Delivery): Promise<void> {
    const settled = { ...delivery, settledAt: this.deps.now() };
    await this.deps.outbox.settle(settled);
    if (settled.status === 'failed') this.deps.log.error({ provider: settled.provider, alert: settled.alert.idempotencyKey, error: settled.lastError }, 'alert delivery given up');
    else this.deps.log.info({ provider: settled.provider, alert: settled.alert.idempotencyKey, attempts: settled.attempts }, 'alert delivered');
    this.deps.onUpdate(settled);
  }
}

/** Puts an alert in the outbox for every provider that wants it; a repeat of a queued alert adds nothing. */
export function queueAlert(outbox: Outbox, providers: readonly ConfiguredProvider[], alert: Alert, at: number): Promise<Delivery[]> {
  return outbox.add(redactStrings(alert), providers.filter((p) => wants(p, alert)).map((p) => p.name), at);
}

/** One attempt to send one alert through one provider; throws `DeliveryError` (or whatever the provider threw). */
export async function sendAlert(
  provider: ConfiguredProvider,
  alert: Alert,
  context: { timeoutMs: number; signal?: AbortSignal; env: NodeJS.ProcessEnv; rescueGateway: GatewayAccess | undefined },
): Promise<void> {
  const timeout = AbortSignal.timeout(context.timeoutMs);
  const signal = context.signal ? AbortSignal.any([timeout, context.signal]) : timeout;
  const message: unknown = provider.definition.format(redactStrings(alert), provider.options);
  await provider.definition.send(message, provider.options, { signal, env: context.env, ...(context.rescueGateway ? { rescueGateway: context.rescueGateway } : {}) });
}

/** A failure as the record shows it: short, and with the provider's secrets (bot tokens in URLs) masked. */
export function describe(error: unknown, provider: ConfiguredProvider): string {
  return redactText(errorMessage(error), provider.secrets).slice(0, 300);
}

import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../core/log.js';
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
}

/**
 * Sends what is in the outbox: one worker per provider, so a receiver that is down, slow or answering
 * garbage delays only its own deliveries. Each delivery is retried with exponential backoff and jitter
 * (p-retry) until it succeeds, fails for good (a 4xx other than 429) or is older than `giveUpAfterMs`.
 */
export class Dispatcher {
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly idle = new Map<string, Promise<void>>();
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
    while (this.idle.size > 0) await Promise.all(this.idle.values());
  }

  close(): void {
    this.stopping.abort(new Error('lifeguard is stopping'));
  }

  private kick(provider: string): void {
    if (this.busy.has(provider)) {
      this.again.add(provider);
      return;
    }
    this.busy.add(provider);
    const work = this.work(provider)
      .catch((error: unknown) => this.deps.log.error({ err: error, provider }, 'notification worker failed'))
      .finally(() => {
        this.busy.delete(provider);
        this.idle.delete(provider);
        if (this.again.delete(provider) && !this.stopping.signal.aborted) this.kick(provider);
      });
    this.idle.set(provider, work);
  }

  private async work(name: string): Promise<void> {
    do {
      this.again.delete(name);
      const queue = (await this.deps.outbox.pending()).filter((d) => d.provider === name);
      for (const delivery of queue) {
        if (this.stopping.signal.aborted) return;
        await this.deliver(delivery);
      }
    } while (this.again.has(name) && !this.stopping.signal.aborted);
  }

  private async deliver(queued: Delivery): Promise<void> {
    const provider = this.providers.find((p) => p.name === queued.provider);
    if (!provider) {
      await this.settle({ ...queued, status: 'failed', lastError: 'provider no longer configured' });
      return;
    }
    const { settings, now } = this.deps;
    let delivery = queued;
    const remaining = delivery.createdAt + settings.giveUpAfterMs - now();
    try {
      await pRetry(() => this.attempt(provider, delivery.alert), {
        retries: 10_000,
        factor: 2,
        minTimeout: 1_000,
        maxTimeout: settings.retryMaxDelayMs,
        randomize: true,
        maxRetryTime: Math.max(0, remaining),
        signal: this.stopping.signal,
        shouldRetry: ({ error }) => !(error instanceof DeliveryError) || error.retryable,
        onFailedAttempt: async ({ error }) => {
          delivery = { ...delivery, attempts: delivery.attempts + 1, lastAttemptAt: now(), lastError: describe(error, provider) };
          this.deps.log.warn({ provider: provider.name, alert: delivery.alert.idempotencyKey, attempts: delivery.attempts, error: delivery.lastError }, 'alert delivery failed');
          await this.deps.outbox.save(delivery);
          this.deps.onUpdate(delivery);
        },
      });
      await this.settle({ ...delivery, attempts: delivery.attempts + 1, status: 'delivered', lastAttemptAt: now() });
    } catch (error) {
      if (this.stopping.signal.aborted) return; // stays pending: the next run sends it
      await this.settle({ ...delivery, status: 'failed', lastError: delivery.lastError ?? describe(error, provider) });
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
  return outbox.add(alert, providers.filter((p) => wants(p, alert)).map((p) => p.name), at);
}

/** One attempt to send one alert through one provider; throws `DeliveryError` (or whatever the provider threw). */
export async function sendAlert(
  provider: ConfiguredProvider,
  alert: Alert,
  context: { timeoutMs: number; signal?: AbortSignal; env: NodeJS.ProcessEnv; rescueGateway: GatewayAccess | undefined },
): Promise<void> {
  const timeout = AbortSignal.timeout(context.timeoutMs);
  const signal = context.signal ? AbortSignal.any([timeout, context.signal]) : timeout;
  const message: unknown = provider.definition.format(alert, provider.options);
  await provider.definition.send(message, provider.options, { signal, env: context.env, ...(context.rescueGateway ? { rescueGateway: context.rescueGateway } : {}) });
}

/** A failure as the record shows it: short, and with the provider's secrets (bot tokens in URLs) masked. */
export function describe(error: unknown, provider: ConfiguredProvider): string {
  return redactText(errorMessage(error), provider.secrets).slice(0, 300);
}

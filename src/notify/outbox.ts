import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../core/fs.js';
import type { Alert } from './types.js';

/** One alert on its way to one provider. */
export interface Delivery {
  readonly id: string;
  readonly provider: string;
  readonly alert: Alert;
  readonly createdAt: number;
  readonly attempts: number;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly lastError?: string;
  readonly lastAttemptAt?: number;
  readonly settledAt?: number;
  /**
   * The idempotency key of a newer alert to the same provider that was delivered while this one kept
   * failing: the owner got the newer state first; this one is still retried (or given up) on its own.
   */
  readonly overtakenBy?: string;
}

const SAFE = /[^A-Za-z0-9._~-]/g;

/**
 * The persistent outbox under `$LIFEGUARD_HOME/outbox`: `pending/` holds what still has to go out,
 * `done/` what went out (or was given up). A delivery id is the alert's idempotency key plus the
 * provider, so adding the same alert twice (a replay after a crash) never sends it twice.
 */
export class Outbox {
  private readonly pendingDir: string;
  private readonly doneDir: string;

  constructor(home: string) {
    this.pendingDir = join(home, 'outbox', 'pending');
    this.doneDir = join(home, 'outbox', 'done');
  }

  static deliveryId(alert: Alert, provider: string): string {
    return `${alert.idempotencyKey}~${provider}`.replace(SAFE, '_');
  }

  /** Queues the alert for each provider it is not already queued or sent to; returns the new deliveries. */
  async add(alert: Alert, providers: readonly string[], at: number): Promise<Delivery[]> {
    const added: Delivery[] = [];
    for (const provider of providers) {
      const id = Outbox.deliveryId(alert, provider);
      if (await this.known(id)) continue;
      const delivery: Delivery = { id, provider, alert, createdAt: at, attempts: 0, status: 'pending' };
      await this.save(delivery);
      added.push(delivery);
    }
    return added;
  }

  /** Pending deliveries, oldest first (each provider gets its alerts in the order they happened). */
  async pending(): Promise<Delivery[]> {
    const names = await readdir(this.pendingDir).catch(() => [] as string[]);
    const deliveries: Delivery[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const id = name.slice(0, -5);
      if (await this.read(this.doneDir, id)) {
        // Settled just before a crash removed it from pending.
        await rm(join(this.pendingDir, name), { force: true });
        continue;
      }
      const delivery = await this.read(this.pendingDir, id);
      if (delivery) deliveries.push(delivery);
    }
    return deliveries.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async save(delivery: Delivery): Promise<void> {
    await writeFileAtomically(join(this.pendingDir, `${delivery.id}.json`), JSON.stringify(delivery));
  }

  /** Done is written before pending is removed: a crash in between leaves a duplicate that `pending()` cleans up. */
  async settle(delivery: Delivery): Promise<void> {
    await writeFileAtomically(join(this.doneDir, `${delivery.id}.json`), JSON.stringify(delivery));
    await rm(join(this.pendingDir, `${delivery.id}.json`), { force: true });
  }

  async done(): Promise<Delivery[]> {
    const names = await readdir(this.doneDir).catch(() => [] as string[]);
    const deliveries = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(this.doneDir, n.slice(0, -5))));
    return deliveries.filter((d): d is Delivery => d !== undefined).sort((a, b) => a.createdAt - b.createdAt);
  }

  private async known(id: string): Promise<boolean> {
    return (await this.read(this.pendingDir, id)) !== undefined || (await this.read(this.doneDir, id)) !== undefined;
  }

  private async read(dir: string, id: string): Promise<Delivery | undefined> {
    try {
      return JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as Delivery;
    } catch {
      return undefined;
    }
  }
}

import type { z } from 'zod';

/** What an alert is about; `reminder` repeats an open incident, `digest` is the daily summary. */
export const ALERT_EVENTS = [
  'down', 'degraded', 'config-invalid', 'recovered', 'escalated', 'reminder', 'resolved', 'test', 'digest',
] as const;
export type AlertEventName = (typeof ALERT_EVENTS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * One alert, as every provider receives it. Plain JSON (it is stored in the outbox), already free of
 * secrets: providers format it, they never add to it.
 */
export interface Alert {
  readonly event: AlertEventName;
  /** The incident this alert belongs to; later alerts of one outage carry the same id. Null for `test` and `digest`. */
  readonly incidentId: string | null;
  readonly instance: string | null;
  readonly severity: Severity;
  /** One line, fit for a phone's lock screen. */
  readonly summary: string;
  /** Ordered facts (classification, reason, config path, what lifeguard did, ...), each one short line. */
  readonly details: Readonly<Record<string, string>>;
  /** The commands most useful now, e.g. `lifeguard incident show <id>`. */
  readonly commands: readonly string[];
  /** ISO time of the event (not of the delivery). */
  readonly at: string;
  /** Stable per alert: the same alert delivered twice carries the same key, so a receiver can drop the repeat. */
  readonly idempotencyKey: string;
  /** The host lifeguard runs on, so an owner with several machines knows which one. */
  readonly host: string;
}

/** A provider's verdict on one delivery attempt; `retryable: false` stops retrying at once (a 4xx other than 429). */
export class DeliveryError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly status?: number) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface SendContext {
  /** Give up on this attempt when it fires (the dispatcher's per-attempt timeout). */
  readonly signal: AbortSignal;
  /** The environment lifeguard runs with (PATH for CLI providers such as Apprise). */
  readonly env: NodeJS.ProcessEnv;
  /** How to reach the rescue Gateway, for the `gateway` provider; absent when it is not known. */
  readonly rescueGateway?: GatewayAccess;
}

/** The rescue Gateway, as the `gateway` provider reaches it: its CLI (direct delivery) or its RPC. */
export interface GatewayAccess {
  /** argv that runs the rescue's Gateway CLI, e.g. `[node, openclaw.mjs]`. */
  readonly command: readonly string[];
  /** The environment the rescue runs with under PM2 (its config path, state dir, profile). */
  readonly env: Readonly<Record<string, string>>;
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  readonly token: string | undefined;
  /** The rescue's Gateway config, read at each attempt for its channel credentials (the direct Telegram route). */
  readonly configPath: string;
}

/**
 * One notification provider: a zod schema for its options, a pure `format()` that turns an alert into
 * exactly what will be sent (tested without I/O), and `send()` that sends it and throws `DeliveryError`.
 * Adding a provider = one file exporting a `ProviderDefinition` + one line in `registry.ts`.
 */
export interface ProviderDefinition<Options, Message> {
  readonly type: string;
  /** Options besides the common `type`, `name` and `minSeverity`. */
  readonly options: z.ZodType<Options>;
  /** The option values that must never appear in logs or records (bot tokens, passwords, URLs with keys). */
  secrets(options: Options): string[];
  format(alert: Alert, options: Options): Message;
  send(message: Message, options: Options, context: SendContext): Promise<void>;
  /** Which way the alerts leave, for `lifeguard notify test`, where a provider has more than one (gateway). */
  route?(options: Options, context: Pick<SendContext, 'rescueGateway'>): Promise<string>;
}

// The registry stores definitions of many option types side by side.
export type AnyProviderDefinition = ProviderDefinition<any, any>;

/** An HTTP request a provider's `format()` produces; `send()` posts it. */
export interface HttpRequestMessage {
  readonly url: string;
  readonly method: 'POST' | 'PUT';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

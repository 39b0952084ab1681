import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import type { HealthState } from '../detector/types.js';
import { RUNGS, type Rung } from '../incidents/types.js';

/** A record rather than a list, so a state added to `HealthState` does not compile until it is listed here. */
const STATE_SERIES: Record<HealthState, true> = { starting: true, healthy: true, degraded: true, suspect: true, down: true, recovering: true };
const HEALTH_STATES = Object.keys(STATE_SERIES) as HealthState[];
export const CONFIG_STATES = ['valid', 'invalid', 'unknown'] as const;
export type ConfigState = (typeof CONFIG_STATES)[number];

export type DeliveryStatus = 'delivered' | 'failed' | 'retried';
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['delivered', 'failed', 'retried'];

/**
 * prom-client's default collectors name three gauges `*_total`, which `promtool check metrics` flags (a
 * `_total` suffix promises a counter). Their per-type twins (`nodejs_active_handles{type}`, ...) stay; a sum
 * of those gives the same figure.
 */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** What lifeguard is and what it supervises: the labels of `lifeguard_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly flavour: string;
  /** The Gateway package's version, when lifeguard could read it. */
  readonly gatewayVersion: string | undefined;
}

/** One Gateway as the supervisor sees it now; read at every scrape, so a gauge is never out of date. */
export interface GatewayReading {
  readonly gateway: InstanceName;
  readonly state: HealthState;
  /** The config guard's verdict; undefined for a Gateway the guard does not watch (the rescue). */
  readonly config: ConfigState | undefined;
  /** The open incident, if any: its rung, and whether it waits for a human (R4, automation frozen). */
  readonly incident: { readonly rung: Rung; readonly frozen: boolean } | undefined;
  /** `lifeguard pause` holds it: planned work. */
  readonly paused: boolean;
}

export interface MetricsReading {
  readonly gateways: readonly GatewayReading[];
  readonly pm2Reachable: boolean;
}

export interface MetricsSetup {
  readonly build: BuildInfo;
  /** The `name` of every notify entry: their delivery counters exist at 0 from the start. */
  readonly providers: readonly string[];
  /** The supervisor's current view, read at each scrape. */
  readonly read: () => MetricsReading;
}

/** What the supervisor records as things happen (events); states are read from it at scrape time. */
export interface MetricsRecorder {
  observeProbe(gateway: InstanceName, seconds: number, ok: boolean): void;
  countRestart(gateway: InstanceName): void;
  countIncident(gateway: InstanceName): void;
  countDelivery(provider: string, status: DeliveryStatus): void;
}

export interface LifeguardMetrics extends MetricsRecorder {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * A registry of its own, so nothing else in the process (a library using the global one) leaks into
 * lifeguard's endpoint, and tests can create as many as they like.
 *
 * Fit for a fleet: the Gateway is the `gateway` label, never `instance` or `job` (Prometheus's own target
 * labels, which identify the host); there is no `lifeguard_up` (Prometheus's `up` is that); states are
 * state sets (one series per possible value, 1 for the current one), not magic numbers.
 */
export function createMetrics(setup: MetricsSetup): LifeguardMetrics {
  const registry = new Registry();
  // Node's default event-loop monitor samples every 10 ms: 100 wake-ups a second, about 4 ms of CPU per
  // second on an idle supervisor. Sampled once a second it is lost in the noise, and it still catches
  // the stalls that matter to a watchdog (hundreds of ms and up). Everything else is read at scrape time.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 });
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  const registers = [registry];

  // Read once per scrape, by whichever gauge collects first.
  let reading: MetricsReading | undefined;
  const current = () => (reading ??= setup.read());

  const buildInfo = new Gauge({
    name: 'lifeguard_build_info',
    help: 'Always 1; the labels say which lifeguard runs and which Gateway it supervises.',
    labelNames: ['version', 'flavour', 'gateway_version'] as const,
    registers,
  });
  buildInfo.set({ version: setup.build.version, flavour: setup.build.flavour, gateway_version: setup.build.gatewayVersion ?? 'unknown' }, 1);

  /** One series per Gateway and possible value, 1 for the Gateway's current one (none: all 0; not applicable: no series). */
  const stateSet = <V extends string>(name: string, help: string, label: string, values: readonly V[], valueOf: (g: GatewayReading) => V | undefined | null) =>
    new Gauge({
      name, help, labelNames: ['gateway', label], registers,
      collect() {
        for (const g of current().gateways) {
          const now = valueOf(g);
          if (now === null) continue;
          for (const value of values) this.set({ gateway: g.gateway, [label]: value }, value === now ? 1 : 0);
        }
      },
    });
  /** One series per Gateway, 1 while `holds`, else 0. */
  const flag = (name: string, help: string, holds: (g: GatewayReading) => boolean) =>
    new Gauge({
      name, help, labelNames: ['gateway'], registers,
      collect() {
        for (const g of current().gateways) this.set({ gateway: g.gateway }, holds(g) ? 1 : 0);
      },
    });

  stateSet('lifeguard_gateway_state', 'Health state of the Gateway (state set): 1 for the current state, 0 for the others.', 'state', HEALTH_STATES, (g) => g.state);
  // The guard watches the main only: the rescue gets no series rather than a made-up verdict.
  stateSet("lifeguard_config_state", "The config guard's verdict on the Gateway's config (state set): 1 for the current verdict, 0 for the others.", 'state', CONFIG_STATES, (g) => g.config ?? null);
  stateSet('lifeguard_incident_rung', 'Rung of the escalation ladder the open incident is on (state set); all 0 while no incident is open.', 'rung', RUNGS, (g) => g.incident?.rung);
  flag('lifeguard_incident_open', '1 while an incident is open for the Gateway, else 0.', (g) => g.incident !== undefined);
  flag('lifeguard_incident_frozen', '1 while the open incident waits for a human at R4 (automation frozen until `lifeguard incident ack`), else 0.', (g) => g.incident?.frozen === true);
  flag('lifeguard_gateway_paused', '1 while `lifeguard pause` holds the Gateway (planned work: no alerts, no automated action), else 0.', (g) => g.paused);
  new Gauge({
    name: 'lifeguard_pm2_reachable',
    help: '1 while the PM2 daemon answers lifeguard, 0 once it is considered lost.',
    registers,
    collect() {
      this.set(current().pm2Reachable ? 1 : 0);
    },
  });

  const probeLatency = new Histogram({
    name: 'lifeguard_probe_latency_seconds',
    help: 'Duration of a health probe of the Gateway, by outcome.',
    labelNames: ['gateway', 'ok'] as const,
    // Probes time out at 1.5 s by default and at 60 s at most.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60],
    registers,
  });
  const restarts = new Counter({
    name: 'lifeguard_restarts_total',
    help: 'Restarts of the Gateway ordered by lifeguard (not by PM2 or an operator).',
    labelNames: ['gateway'] as const,
    registers,
  });
  const incidents = new Counter({
    name: 'lifeguard_incidents_total',
    help: 'Incidents opened.',
    labelNames: ['gateway'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'lifeguard_alert_deliveries_total',
    help: 'Alert delivery attempts by provider and outcome (retried: failed, another attempt follows).',
    labelNames: ['provider', 'status'] as const,
    registers,
  });

  // Counters exist from the start, so `increase()` sees the first event and alert rules see a 0, not nothing.
  for (const gateway of INSTANCE_NAMES) {
    restarts.inc({ gateway }, 0);
    incidents.inc({ gateway }, 0);
  }
  for (const provider of setup.providers) {
    for (const status of DELIVERY_STATUSES) deliveries.inc({ provider, status }, 0);
  }

  return {
    contentType: registry.contentType,
    observeProbe: (gateway, seconds, ok) => probeLatency.observe({ gateway, ok: String(ok) }, seconds),
    countRestart: (gateway) => restarts.inc({ gateway }),
    countIncident: (gateway) => incidents.inc({ gateway }),
    countDelivery: (provider, status) => deliveries.inc({ provider, status }),
    render: async () => {
      reading = undefined;
      try {
        return await registry.metrics();
      } finally {
        reading = undefined;
      }
    },
  };
}

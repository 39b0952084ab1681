import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import type { HealthState } from '../detector/types.js';

/** A record rather than a list, so a state added to `HealthState` does not compile until it is listed here. */
const STATE_SERIES: Record<HealthState, true> = { starting: true, healthy: true, degraded: true, suspect: true, down: true, recovering: true };
const HEALTH_STATES = Object.keys(STATE_SERIES) as HealthState[];

export type DeliveryStatus = 'delivered' | 'failed' | 'retried';

/** What the supervisor records as things happen; `/metrics` renders it on each scrape. */
export interface LifeguardMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  observeProbe(instance: InstanceName, seconds: number, ok: boolean): void;
  setState(instance: InstanceName, state: HealthState): void;
  countRestart(instance: InstanceName): void;
  countIncident(instance: InstanceName): void;
  setIncidentOpen(instance: InstanceName, open: boolean): void;
  countDelivery(provider: string, status: DeliveryStatus): void;
  setConfigValid(instance: InstanceName, valid: boolean | 'unknown'): void;
  setPm2Reachable(reachable: boolean): void;
  render(): Promise<string>;
}

/**
 * A registry of its own, so nothing else in the process (a library using the global one) leaks into
 * lifeguard's endpoint, and tests can create as many as they like.
 */
export function createMetrics(): LifeguardMetrics {
  const registry = new Registry();
  // Node's default event-loop monitor samples every 10 ms: 100 wake-ups a second, about 4 ms of CPU per
  // second on an idle supervisor. Sampled once a second it is lost in the noise, and it still catches
  // the stalls that matter to a watchdog (hundreds of ms and up). Everything else is read at scrape time.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 });
  const registers = [registry];

  const state = new Gauge({
    name: 'lifeguard_instance_state',
    help: 'Health state of the instance: 1 for the current state, 0 for the others.',
    labelNames: ['instance', 'state'] as const,
    registers,
  });
  const probeLatency = new Histogram({
    name: 'lifeguard_probe_latency_seconds',
    help: 'Duration of a health probe of the Gateway, by outcome.',
    labelNames: ['instance', 'ok'] as const,
    // Probes time out at 1.5 s by default and at 60 s at most.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60],
    registers,
  });
  const restarts = new Counter({
    name: 'lifeguard_restarts_total',
    help: 'Restarts of the Gateway ordered by lifeguard (not by PM2 or an operator).',
    labelNames: ['instance'] as const,
    registers,
  });
  const incidents = new Counter({
    name: 'lifeguard_incidents_total',
    help: 'Incidents opened.',
    labelNames: ['instance'] as const,
    registers,
  });
  const incidentOpen = new Gauge({
    name: 'lifeguard_incident_open',
    help: '1 while an incident is open for the instance, else 0.',
    labelNames: ['instance'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'lifeguard_alert_deliveries_total',
    help: 'Alert delivery attempts by provider and outcome (retried: failed, another attempt follows).',
    labelNames: ['provider', 'status'] as const,
    registers,
  });
  const configValid = new Gauge({
    name: 'lifeguard_config_valid',
    help: "The config guard's verdict on the instance's Gateway config: 1 valid, 0 invalid, -1 not known.",
    labelNames: ['instance'] as const,
    registers,
  });
  const pm2Reachable = new Gauge({
    name: 'lifeguard_pm2_reachable',
    help: '1 while the PM2 daemon answers lifeguard, 0 once it is considered lost.',
    registers,
  });
  const up = new Gauge({ name: 'lifeguard_up', help: 'Always 1: the supervisor answers scrapes.', registers });
  up.set(1);

  // Series exist from the start, so `increase()` sees the first event and alert rules see a 0, not nothing.
  for (const instance of INSTANCE_NAMES) {
    restarts.inc({ instance }, 0);
    incidents.inc({ instance }, 0);
    incidentOpen.set({ instance }, 0);
  }

  return {
    registry,
    contentType: registry.contentType,
    observeProbe: (instance, seconds, ok) => probeLatency.observe({ instance, ok: String(ok) }, seconds),
    setState: (instance, current) => {
      for (const candidate of HEALTH_STATES) state.set({ instance, state: candidate }, candidate === current ? 1 : 0);
    },
    countRestart: (instance) => restarts.inc({ instance }),
    countIncident: (instance) => incidents.inc({ instance }),
    setIncidentOpen: (instance, open) => incidentOpen.set({ instance }, open ? 1 : 0),
    countDelivery: (provider, status) => deliveries.inc({ provider, status }),
    setConfigValid: (instance, valid) => configValid.set({ instance }, valid === 'unknown' ? -1 : valid ? 1 : 0),
    setPm2Reachable: (reachable) => pm2Reachable.set(reachable ? 1 : 0),
    render: () => registry.metrics(),
  };
}

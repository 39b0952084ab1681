import type { Logger } from 'pino';
import type { ResolvedInstance } from '../config/instance.js';
import { channelFactsOf, readGatewayConfigObject } from '../config/gateway-channels.js';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import { redactText } from '../secrets/redact.js';
import { incidentIdFor } from '../incidents/id.js';
import { applyStep, newRecord, type IncidentRecord } from '../incidents/record.js';
import { createIncident, listIncidents, updateIncident } from '../incidents/store.js';
import type { IncidentCore } from '../incidents/types.js';
import type { Alert } from '../notify/types.js';
import { channelReadings, deafSummary, hearsAgainSummary, stepChannels, type ChannelEffect, type ChannelWatchState } from '../probes/channel-health.js';
import { callGateway } from '../probes/gateway-ws.js';
import { LIFEGUARD_VERSION } from '../version.js';

/**
 * Every 30 s, one `health` call with `probe: true` per Gateway: the Gateway probes each channel account
 * live (for Telegram one getMe through its own client). A channel failing for a minute is deaf: at worst
 * 30 s to notice plus 60 s plus one round, well inside 3 minutes.
 */
export const CHANNEL_PROBE_EVERY_MS = 30_000;
export const CHANNEL_DEAF_AFTER_MS = 60_000;
const PROBE_TIMEOUT_MS = 20_000;

export interface ChannelWatchDeps {
  readonly instances: () => Readonly<Record<InstanceName, ResolvedInstance>>;
  readonly home: string;
  readonly host: string;
  readonly log: Logger;
  readonly enqueue: (alert: Alert) => Promise<unknown>;
  readonly now: () => number;
}

/**
 * Watches the channels of both Gateways and keeps one `degraded` incident per deaf channel, under the
 * incident instance `<instance>.<channel>` (e.g. `rescue.telegram`), so it never mixes with the
 * instance's own outage incident and never leads to a restart: only an alert, and a resolve once the
 * channel hears again.
 */
export function startChannelWatch(deps: ChannelWatchDeps): { stop(): void } {
  const states = new Map<InstanceName, ChannelWatchState>();
  let running: Promise<void> = restoreOpen(deps, states).catch((error: unknown) => deps.log.error({ err: error }, 'channel watch: cannot read open incidents'));
  const round = async () => {
    for (const name of INSTANCE_NAMES) {
      const instance = deps.instances()[name];
      const answer = await callGateway({
        url: `ws://127.0.0.1:${instance.port}`, token: instance.token, timeoutMs: PROBE_TIMEOUT_MS, clientVersion: LIFEGUARD_VERSION,
        // OpenClaw reports a channel's probe result only to an operator.admin client.
        method: 'health', params: { probe: true }, scopes: ['operator.read', 'operator.admin'],
      });
      const at = deps.now();
      const { state, effects } = stepChannels(states.get(name) ?? {}, answer.ok ? channelReadings(answer.payload) : undefined, at, CHANNEL_DEAF_AFTER_MS);
      states.set(name, state);
      for (const effect of effects) await carryOut(deps, instance, effect, at);
    }
  };
  const timer = setInterval(() => {
    running = running.then(round).catch((error: unknown) => deps.log.error({ err: error }, 'channel watch round failed'));
  }, CHANNEL_PROBE_EVERY_MS);
  return { stop: () => clearInterval(timer) };
}

function incidentInstance(instance: string, channel: string): string {
  return `${instance}.${channel}`;
}

/** A deaf channel reported by a previous run stays reported: it resolves when the channel hears again. */
async function restoreOpen(deps: ChannelWatchDeps, states: Map<InstanceName, ChannelWatchState>): Promise<void> {
  for (const record of await listIncidents(deps.home)) {
    if (record.status !== 'open' || record.problem !== 'degraded') continue;
    const [instance, channel] = record.instance.split('.');
    const name = INSTANCE_NAMES.find((n) => n === instance);
    if (!name || !channel) continue;
    states.set(name, { ...states.get(name), [channel]: { failingSince: record.openedAt, detail: record.summary, reported: true } });
  }
}

async function carryOut(deps: ChannelWatchDeps, instance: ResolvedInstance, effect: ChannelEffect, at: number): Promise<void> {
  const name = incidentInstance(instance.name, effect.channel);
  if (effect.kind === 'deaf') {
    // The Gateway's own words; a bot token in them (a URL in an error) must not reach an alert.
    const config = await readGatewayConfigObject(instance.configPath);
    const tokens = config ? (await channelFactsOf(config, instance.extraEnv)).telegramTokens : [];
    const summary = deafSummary(instance.name, effect.channel, redactText(effect.detail, tokens));
    const core: IncidentCore = {
      id: incidentIdFor(name, effect.since), instance: name, status: 'open', openedAt: effect.since, problem: 'degraded',
      classification: undefined, severity: 'warning', summary, rung: 'R0', rungSince: at, attempts: { R0: 0, R1: 0, R2: 0, R3: 0, R4: 0 },
      frozen: false, ack: undefined, recoveredAt: undefined, resolvedAt: undefined, lastAlertAt: at, alertCounts: { degraded: 1 },
    };
    const { record, alerts } = applyStep(newRecord(core, instance.configPath), core, [{ type: 'alert', event: 'degraded', severity: 'warning', summary, sequence: 1 }], at, deps.host);
    for (const alert of alerts) await deps.enqueue(alert);
    await createIncident(deps.home, record);
    deps.log.warn({ instance: instance.name, channel: effect.channel, summary }, 'channel deaf');
    return;
  }
  const open = (await listIncidents(deps.home)).find((r: IncidentRecord) => r.instance === name && r.status === 'open');
  deps.log.info({ instance: instance.name, channel: effect.channel, deafForMs: effect.deafForMs }, 'channel hears again');
  if (!open) return;
  const summary = hearsAgainSummary(instance.name, effect.channel, effect.deafForMs);
  let alerts: Alert[] = [];
  await updateIncident(deps.home, open.id, (r) => {
    if (r.status !== 'open') return undefined;
    const core = { ...r, status: 'resolved' as const, resolvedAt: at, recoveredAt: at, lastAlertAt: at, alertCounts: { ...r.alertCounts, resolved: 1 } };
    const applied = applyStep(r, core, [{ type: 'alert', event: 'resolved', severity: r.severity, summary, sequence: 1 }], at, deps.host);
    alerts = applied.alerts;
    return applied.record;
  });
  for (const alert of alerts) await deps.enqueue(alert);
}

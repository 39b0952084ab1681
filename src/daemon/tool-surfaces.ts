import { join } from 'node:path';
import type { Logger } from 'pino';
import { redactStrings } from '../secrets/redact.js';
import type { AppStatus, Pm2Client } from '../actions/pm2.js';
import type { LifeguardConfig } from '../config/load.js';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import { appNameOf } from '../config/instance.js';
import { parseDotEnv } from '../config/gateway-env.js';
import { resolveSecret } from '../config/secret-ref.js';
import { readTextIfExists } from '../core/fs.js';
import { RUNGS, type Rung } from '../incidents/types.js';
import type { Alert } from '../notify/types.js';
import type { GatewayRuntime } from '../runtime/resolve.js';
import { startStatusServer, type StatusServer } from '../surfaces/http.js';
import type { GatewayReading, MetricsReading, MetricsRecorder } from '../surfaces/metrics.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { buildStatusView } from '../surfaces/status-view.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { Pm2Watch, type Pm2Transition } from './pm2-watch.js';
import type { DaemonStatus } from './status-store.js';
import { ownerCommand } from '../core/command-line.js';

export interface ToolSurfacesDeps {
  readonly config: LifeguardConfig;
  readonly log: Logger;
  readonly pm2: Pm2Client;
  readonly host: string;
  /** The Gateway lifeguard supervises (for `lifeguard_build_info`). */
  readonly runtime: Pick<GatewayRuntime, 'flavour' | 'version'>;
  /** The names of the notify entries (their delivery counters start at 0). */
  readonly providers: readonly string[];
  /** What the supervisor knows now (the document it writes to status.json). */
  readonly currentStatus: () => DaemonStatus;
  readonly alert: (alert: Alert) => Promise<unknown>;
}

/** What the supervisor records is kept only when something can read it (`http.port`). */
const NO_METRICS: MetricsRecorder = { observeProbe: () => {}, countRestart: () => {}, countIncident: () => {}, countDelivery: () => {} };

export interface ToolSurfaces {
  readonly metrics: MetricsRecorder;
  /** PM2's bus spoke: the daemon is alive. */
  noteBus(): void;
  stop(): Promise<void>;
}

/**
 * What lifeguard offers other tools and watches about itself: Prometheus metrics, the loopback status
 * endpoint, the dead man's switch, and the loss of the PM2 daemon (alerted through the providers,
 * none of which needs PM2).
 */
export async function startToolSurfaces(deps: ToolSurfacesDeps): Promise<ToolSurfaces> {
  const { config, log, pm2 } = deps;
  let heartbeat: Heartbeat | undefined;
  const onPm2Change = (transition: Pm2Transition) => {
    const lost = transition.to === 'lost';
    log[lost ? 'error' : 'info']({ reason: transition.reason }, lost ? 'PM2 daemon lost' : 'PM2 daemon reachable again');
    void deps.alert(pm2Alert(lost, transition, deps.host)).catch((error: unknown) => log.error({ err: error }, 'cannot queue the PM2 alert'));
    void heartbeat?.pingNow();
  };
  const pm2Watch = new Pm2Watch({ check: () => pm2.list(), onChange: onPm2Change, log });
  pm2Watch.start();
  // prom-client (and its default collectors) only when the endpoint exists: idle memory and CPU are the cost.
  const registry = config.http.port === undefined ? undefined : (await import('../surfaces/metrics.js')).createMetrics({
    build: { version: LIFEGUARD_VERSION, flavour: deps.runtime.flavour, gatewayVersion: deps.runtime.version },
    providers: deps.providers,
    read: () => metricsReading(deps.currentStatus(), pm2Watch.reachable),
  });
  const metrics: MetricsRecorder = registry ?? NO_METRICS;

  const health = () => (pm2Watch.reachable
    ? { ok: true, detail: 'supervising; PM2 reachable' }
    : { ok: false, detail: pm2Watch.state.lastFailure ?? 'PM2 daemon not reachable' });
  if (config.heartbeat.url) {
    heartbeat = startHeartbeat({ url: config.heartbeat.url, intervalMs: config.heartbeat.intervalMs, verdict: health, log });
  }

  let server: StatusServer | undefined;
  const { port } = config.http;
  if (port !== undefined && registry) {
    // A port someone else holds, or a token that cannot be read, costs the endpoint, never the watchdog.
    server = await httpToken(config).then((token) => startStatusServer({
      host: config.http.host,
      port,
      token,
      log,
      health,
      metrics: async () => ({ body: await registry.render(), contentType: registry.contentType }),
      status: async () => {
        const apps: AppStatus[] | undefined = pm2Watch.reachable ? await pm2.list().catch(() => undefined) : undefined;
        // The status endpoint shows Gateway detail (probe errors, incident summaries): masked like every exit.
        return redactStrings(buildStatusView(deps.currentStatus(), apps, Date.now(), INSTANCE_NAMES.map((name) => ({ name, appName: appNameOf(name), port: config.instances[name].port }))));
      },
    })).catch((error: unknown) => {
      log.error({ err: error, port: config.http.port }, 'status endpoint not started; lifeguard goes on without it');
      return undefined;
    });
    if (server) log.info({ url: `http://${config.http.host}:${server.port}/status` }, 'status endpoint listening');
  }

  return {
    metrics,
    noteBus: () => pm2Watch.noteBusActivity(),
    stop: async () => {
      pm2Watch.stop();
      heartbeat?.stop();
      await server?.close();
    },
  };
}

/**
 * `http.token` as written, or the variable it names: looked up in `$LIFEGUARD_HOME/.env`, since the
 * supervisor under PM2 gets no environment of yours.
 */
async function httpToken(config: LifeguardConfig): Promise<string | undefined> {
  const { token } = config.http;
  if (token === undefined) return undefined;
  const dotEnv = join(config.home, '.env');
  return resolveSecret('http.token', token, parseDotEnv((await readTextIfExists(dotEnv)) ?? ''), `looked up in ${dotEnv}`);
}

/** The gauges' view of the status document the supervisor writes (one source for both). */
export function metricsReading(status: DaemonStatus, pm2Reachable: boolean): MetricsReading {
  const gateways = status.instances.flatMap((i): GatewayReading[] => {
    const gateway = INSTANCE_NAMES.find((name): name is InstanceName => name === i.instance);
    if (!gateway) return [];
    const rung = RUNGS.find((r): r is Rung => r === i.incident?.rung);
    const valid = i.config?.valid;
    return [{
      gateway,
      state: i.detector.state,
      config: valid === undefined ? undefined : valid === 'unknown' ? 'unknown' : valid ? 'valid' : 'invalid',
      incident: i.incident && rung ? { rung, frozen: i.incident.frozen } : undefined,
      paused: i.pausedUntil !== undefined,
    }];
  });
  return { gateways, pm2Reachable };
}

function pm2Alert(lost: boolean, transition: Pm2Transition, host: string): Alert {
  const since = new Date(transition.at).toISOString();
  return {
    event: lost ? 'down' : 'recovered',
    incidentId: null,
    instance: 'pm2',
    severity: 'critical',
    summary: lost
      ? `The PM2 daemon on ${host} is lost: ${transition.reason}. lifeguard cannot restart the Gateways until it is back.`
      : `The PM2 daemon on ${host} answers again: ${transition.reason}`,
    details: { host, since },
    // Not `pm2 ping`/`resurrect`: with no daemon they start an empty one. The runbook entry "PM2 daemon lost" says what to do.
    commands: lost ? [ownerCommand('status'), ownerCommand('diagnose main')] : [ownerCommand('status')],
    at: since,
    idempotencyKey: `pm2-${lost ? 'lost' : 'back'}-${transition.at}`,
    host,
  };
}

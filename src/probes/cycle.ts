import type { ResolvedInstance } from '../config/instance.js';
import type { GatewaySession, GatewayWsResult } from './gateway-ws.js';
import { probeHttp, type HttpProbeResult } from './http.js';

export interface ProbeCycleResult {
  readonly at: number;
  /** The Gateway completes a client handshake and answers `health`. */
  readonly live: boolean;
  /** Live, and (OpenClaw) `/readyz` says every channel and sidecar is ready. */
  readonly ready: boolean;
  readonly latencyMs: number;
  readonly detail: string;
  readonly ws: GatewayWsResult;
  readonly http: readonly HttpProbeResult[];
}

/**
 * One probe cycle the way a client sees the Gateway: HTTP (OpenClaw `/healthz` and `/readyz`; Clawdbot
 * has no health endpoint, only "the port answers") and the WebSocket protocol, in parallel.
 */
export async function runProbeCycle(
  instance: Pick<ResolvedInstance, 'flavour' | 'port' | 'token'>,
  session: GatewaySession,
  timeoutMs: number,
  now = Date.now,
): Promise<ProbeCycleResult> {
  const at = now();
  const wsProbe = session.probe(instance.token, timeoutMs);
  let liveness: HttpProbeResult;
  let readiness: HttpProbeResult | undefined;
  if (instance.flavour === 'openclaw') {
    // A ready OpenClaw is live too: /healthz is only asked when /readyz answers "not ready".
    readiness = await probeHttp({ port: instance.port, path: '/readyz', timeoutMs });
    // No HTTP answer at all (refused, timed out) already says "not live"; asking again only adds a timeout.
    liveness = readiness.ok || readiness.status === undefined ? readiness : await probeHttp({ port: instance.port, path: '/healthz', timeoutMs });
  } else {
    liveness = await probeHttp({ port: instance.port, path: '/', timeoutMs });
  }
  const ws = await wsProbe;
  const http = readiness && readiness !== liveness ? [readiness, liveness] : [liveness];
  // Live needs both faces a client uses; Clawdbot's HTTP only says the listener is up.
  const live = ws.ok && liveness.ok;
  const ready = live && (readiness === undefined || readiness.ok);
  const detail = !ws.ok ? ws.detail : !liveness.ok ? liveness.detail : !ready && readiness ? readiness.detail : ws.detail;
  return { at, live, ready, latencyMs: ws.latencyMs, detail, ws, http };
}

import type { ResolvedInstance } from '../config/instance.js';
import { probeGatewayWs, type GatewayWsResult } from './gateway-ws.js';
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
export async function runProbeCycle(instance: ResolvedInstance, timeoutMs: number, clientVersion: string, now = Date.now): Promise<ProbeCycleResult> {
  const at = now();
  const wsProbe = probeGatewayWs({ url: `ws://127.0.0.1:${instance.port}`, token: instance.token, timeoutMs, clientVersion });
  let liveness: HttpProbeResult;
  let readiness: HttpProbeResult | undefined;
  if (instance.flavour === 'openclaw') {
    // A ready OpenClaw is live too: /healthz is only asked when /readyz says no.
    readiness = await probeHttp({ port: instance.port, path: '/readyz', timeoutMs });
    liveness = readiness.ok ? readiness : await probeHttp({ port: instance.port, path: '/healthz', timeoutMs });
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

import { WebSocket } from 'ws';
import { z } from 'zod';
import type { ProbeResult } from './types.js';

/** Larger frames than this are refused: a healthy hello-ok is a few KB, a hostile one could be anything. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
export const PROTOCOL_RANGE = { min: 3, max: 4 } as const;

const challengeFrame = z.object({ type: z.literal('event'), event: z.literal('connect.challenge') });
const responseFrame = z.object({
  type: z.literal('res'),
  id: z.string(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).optional(),
});
const helloOk = z.object({
  type: z.literal('hello-ok'),
  protocol: z.number().int().min(PROTOCOL_RANGE.min).max(PROTOCOL_RANGE.max),
  server: z.object({ version: z.string().optional() }).optional(),
  snapshot: z.object({ uptimeMs: z.number().optional(), configPath: z.string().optional() }).optional(),
});

export interface GatewayWsResult extends ProbeResult {
  readonly protocol?: number;
  readonly serverVersion?: string;
  readonly uptimeMs?: number;
  /** The config file the running Gateway loaded, from its hello-ok snapshot. */
  readonly configPath?: string;
}

export interface GatewayWsOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly clientVersion: string;
}

/**
 * Connects the way a Gateway client does: wait for `connect.challenge`, send `connect` (protocol 3..4,
 * operator.read, the instance's token), expect `hello-ok`, then call the `health` RPC.
 */
export function probeGatewayWs(options: GatewayWsOptions): Promise<GatewayWsResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let stage: 'open' | 'challenge' | 'connect' | 'health' = 'open';
    let hello: z.infer<typeof helloOk> | undefined;
    const socket = new WebSocket(options.url, {
      handshakeTimeout: options.timeoutMs,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      followRedirects: false,
    });
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.on('error', () => {});
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
      resolve({
        ok,
        latencyMs: elapsed(),
        detail: redact(detail, options.token),
        ...(hello ? {
          protocol: hello.protocol,
          ...(hello.server?.version ? { serverVersion: hello.server.version } : {}),
          ...(hello.snapshot?.uptimeMs !== undefined ? { uptimeMs: hello.snapshot.uptimeMs } : {}),
          ...(hello.snapshot?.configPath ? { configPath: hello.snapshot.configPath } : {}),
        } : {}),
      });
    };
    const timer = setTimeout(() => finish(false, `no ${stage === 'open' ? 'WebSocket upgrade' : stage === 'challenge' ? 'connect.challenge' : `${stage} reply`} within ${options.timeoutMs} ms`), options.timeoutMs);
    const send = (frame: unknown) => socket.send(JSON.stringify(frame));
    socket.on('open', () => {
      stage = 'challenge';
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return finish(false, `unexpected binary frame during ${stage}`);
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return finish(false, `garbage frame during ${stage} (not JSON)`);
      }
      if (stage === 'challenge') {
        if (!challengeFrame.safeParse(frame).success) return finish(false, 'first frame was not connect.challenge');
        stage = 'connect';
        return send({
          type: 'req',
          id: 'lifeguard-connect',
          method: 'connect',
          params: {
            minProtocol: PROTOCOL_RANGE.min,
            maxProtocol: PROTOCOL_RANGE.max,
            // OpenClaw strips the scopes of a deviceless client unless it is the local CLI on loopback.
            client: { id: 'cli', displayName: 'lifeguard', version: options.clientVersion, platform: process.platform, mode: 'cli' },
            role: 'operator',
            scopes: ['operator.read'],
            caps: [],
            ...(options.token ? { auth: { token: options.token } } : {}),
          },
        });
      }
      const res = responseFrame.safeParse(frame);
      if (!res.success) return; // events (tick, presence, health) may interleave; only replies matter
      if (stage === 'connect' && res.data.id === 'lifeguard-connect') {
        if (!res.data.ok) return finish(false, `connect refused: ${describeError(res.data.error)}`);
        const parsed = helloOk.safeParse(res.data.payload);
        if (!parsed.success) return finish(false, 'connect answered without a valid hello-ok (wrong protocol?)');
        hello = parsed.data;
        stage = 'health';
        return send({ type: 'req', id: 'lifeguard-health', method: 'health', params: { probe: false } });
      }
      if (stage === 'health' && res.data.id === 'lifeguard-health') {
        if (!res.data.ok) return finish(false, `health RPC failed: ${describeError(res.data.error)}`);
        return finish(true, `hello-ok (protocol ${hello?.protocol}) and health answered`);
      }
    });
    socket.on('unexpected-response', (_req, res) => finish(false, `HTTP ${res.statusCode} instead of a WebSocket upgrade`));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const what = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? `frame larger than ${MAX_FRAME_BYTES} bytes` : error.code ?? error.message;
      finish(false, `${stage}: ${what}`);
    });
    socket.on('close', (code, reason) => finish(false, `socket closed during ${stage} (${code}${reason.length ? ` ${reason.toString().slice(0, 120)}` : ''})`));
  });
}

function describeError(error: { code?: string | undefined; message?: string | undefined } | undefined): string {
  if (!error) return 'no error detail';
  return [error.code, error.message].filter(Boolean).join(' ').slice(0, 200);
}

function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

import { WebSocket } from 'ws';
import { z } from 'zod';
import type { ProbeResult } from './types.js';

/** Larger frames than this are refused: a healthy hello-ok is a few KB, a hostile one could be anything. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
export const PROTOCOL_RANGE = { min: 3, max: 4 } as const;
/** A kept connection is handshaken anew this often, so the whole connect path stays proven. */
export const REHANDSHAKE_EVERY_MS = 5 * 60_000;

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
type Hello = z.infer<typeof helloOk>;
type Response = z.infer<typeof responseFrame>;

export interface GatewayWsResult extends ProbeResult {
  readonly protocol?: number;
  readonly serverVersion?: string;
  /** The config file the running Gateway loaded, from its hello-ok snapshot (Clawdbot only). */
  readonly configPath?: string;
  /** True when this probe ran the whole handshake, false when it reused a kept connection. */
  readonly handshake: boolean;
}

export type GatewayCallResult = { readonly ok: true; readonly payload: unknown } | { readonly ok: false; readonly detail: string };

export interface GatewayWsOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly clientVersion: string;
}

/**
 * A client connection to one Gateway, kept open between probes the way real clients keep theirs.
 * The first probe (and one every few minutes, or after any failure) runs the whole handshake:
 * `connect.challenge` → `connect` (protocol 3..4, operator.read, the instance's token) → `hello-ok`,
 * then the `health` RPC. Probes in between send only `health` on the open socket: a frozen Gateway
 * answers neither. A failed probe drops the connection, so the next one starts from scratch.
 */
export class GatewaySession {
  private socket: WebSocket | undefined;
  private hello: Hello | undefined;
  private connectedAt = 0;
  private connectedToken: string | undefined;
  private nextId = 0;
  private readonly waiting = new Map<string, (frame: Response) => void>();
  private failure: ((detail: string) => void) | undefined;

  constructor(
    private readonly url: string,
    private readonly clientVersion: string,
    private readonly now: () => number = Date.now,
    private readonly scopes: readonly string[] = ['operator.read'],
  ) {}

  async probe(token: string | undefined, timeoutMs: number): Promise<GatewayWsResult> {
    const started = performance.now();
    const outcome = await this.exchange(token, 'health', { probe: false }, timeoutMs);
    const latencyMs = Math.round(performance.now() - started);
    if (!outcome.ok) return { ok: false, latencyMs, detail: outcome.detail, handshake: outcome.handshake };
    const hello = this.hello!;
    return {
      ok: true,
      latencyMs,
      detail: `hello-ok (protocol ${hello.protocol}) and health answered`,
      handshake: outcome.handshake,
      protocol: hello.protocol,
      ...(hello.server?.version ? { serverVersion: hello.server.version } : {}),
      ...(hello.snapshot?.configPath ? { configPath: hello.snapshot.configPath } : {}),
    };
  }

  /** One RPC on the kept connection (handshaking first when needed); never throws. */
  async call(token: string | undefined, method: string, params: unknown, timeoutMs: number): Promise<GatewayCallResult> {
    const outcome = await this.exchange(token, method, params, timeoutMs);
    return outcome.ok ? { ok: true, payload: outcome.payload } : { ok: false, detail: outcome.detail };
  }

  private async exchange(
    token: string | undefined, method: string, params: unknown, timeoutMs: number,
  ): Promise<{ ok: true; payload: unknown; handshake: boolean } | { ok: false; detail: string; handshake: boolean }> {
    const reuse = this.socket?.readyState === WebSocket.OPEN && this.hello !== undefined
      && token === this.connectedToken && this.now() - this.connectedAt < REHANDSHAKE_EVERY_MS;
    if (!reuse) this.close();
    let stage = reuse ? `${method} reply` : 'WebSocket upgrade';
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = async () => {
        if (!reuse) {
          await this.open((next) => { stage = next; }, token);
          stage = `${method} reply`;
        }
        const reply = await this.request(method, params);
        if (!reply.ok) throw new ProbeFailure(`${method} RPC failed: ${describeError(reply.error)}`);
        return reply.payload;
      };
      const payload = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ProbeFailure(`no ${stage} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ok: true, payload, handshake: !reuse };
    } catch (error) {
      this.close();
      const detail = error instanceof ProbeFailure ? error.message : `${stage}: ${String(error)}`;
      return { ok: false, detail: redact(detail, token), handshake: !reuse };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.hello = undefined;
    this.waiting.clear();
    this.failure = undefined;
    if (!socket) return;
    socket.removeAllListeners();
    socket.on('error', () => {});
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    else socket.terminate();
  }

  private open(setStage: (stage: string) => void, token: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, followRedirects: false });
      this.socket = socket;
      let stage: 'upgrade' | 'challenge' | 'connect' | 'ready' = 'upgrade';
      const fail = (detail: string) => {
        const waiter = this.failure;
        this.failure = undefined;
        if (stage !== 'ready') reject(new ProbeFailure(detail));
        else waiter?.(detail);
      };
      this.failure = undefined;
      socket.on('open', () => {
        stage = 'challenge';
        setStage('connect.challenge');
      });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return fail(`unexpected binary frame during ${stage}`);
        let frame: unknown;
        try {
          frame = JSON.parse(data.toString());
        } catch {
          return fail(`garbage frame during ${stage} (not JSON)`);
        }
        if (stage === 'challenge') {
          if (!challengeFrame.safeParse(frame).success) return fail('first frame was not connect.challenge');
          stage = 'connect';
          setStage('connect reply');
          return socket.send(JSON.stringify(connectFrame(token, this.clientVersion, this.scopes)));
        }
        const res = responseFrame.safeParse(frame);
        if (!res.success) return; // events (tick, presence, health) interleave; only replies matter
        if (stage === 'connect' && res.data.id === 'lifeguard-connect') {
          if (!res.data.ok) return fail(`connect refused: ${describeError(res.data.error)}`);
          const parsed = helloOk.safeParse(res.data.payload);
          if (!parsed.success) return fail('connect answered without a valid hello-ok (wrong protocol?)');
          this.hello = parsed.data;
          this.connectedAt = this.now();
          this.connectedToken = token;
          stage = 'ready';
          return resolve();
        }
        const waiter = this.waiting.get(res.data.id);
        if (waiter) {
          this.waiting.delete(res.data.id);
          waiter(res.data);
        }
      });
      socket.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode} instead of a WebSocket upgrade`));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const what = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? `frame larger than ${MAX_FRAME_BYTES} bytes` : error.code ?? error.message;
        fail(`${stage === 'upgrade' ? 'open' : stage}: ${what}`);
      });
      socket.on('close', (code, reason) => fail(`socket closed during ${stage} (${code}${reason.length ? ` ${reason.toString().slice(0, 120)}` : ''})`));
    });
  }

  private request(method: string, params: unknown): Promise<Response> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new ProbeFailure('not connected'));
    const id = `lifeguard-${method}-${(this.nextId += 1)}`;
    return new Promise<Response>((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.failure = (detail) => reject(new ProbeFailure(detail));
      socket.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }
}

/** One probe on a fresh connection, closed afterwards. */
export async function probeGatewayWs(options: GatewayWsOptions): Promise<GatewayWsResult> {
  const session = new GatewaySession(options.url, options.clientVersion);
  try {
    return await session.probe(options.token, options.timeoutMs);
  } finally {
    session.close();
  }
}

/** One RPC on a fresh connection with the given scopes (e.g. `operator.write` for `send`), closed afterwards. */
export async function callGateway(options: GatewayWsOptions & { method: string; params: unknown; scopes?: readonly string[] }): Promise<GatewayCallResult> {
  const session = new GatewaySession(options.url, options.clientVersion, Date.now, options.scopes);
  try {
    return await session.call(options.token, options.method, options.params, options.timeoutMs);
  } finally {
    session.close();
  }
}

class ProbeFailure extends Error {}

function connectFrame(token: string | undefined, clientVersion: string, scopes: readonly string[]) {
  return {
    type: 'req',
    id: 'lifeguard-connect',
    method: 'connect',
    params: {
      minProtocol: PROTOCOL_RANGE.min,
      maxProtocol: PROTOCOL_RANGE.max,
      // OpenClaw strips the scopes of a deviceless client unless it is the local CLI on loopback.
      client: { id: 'cli', displayName: 'lifeguard', version: clientVersion, platform: process.platform, mode: 'cli' },
      role: 'operator',
      scopes,
      caps: [],
      ...(token ? { auth: { token } } : {}),
    },
  };
}

function describeError(error: { code?: string | undefined; message?: string | undefined } | undefined): string {
  if (!error) return 'no error detail';
  return [error.code, error.message].filter(Boolean).join(' ').slice(0, 200);
}

function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UserError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isLoopbackAddress } from '../core/net.js';

export interface StatusServerOptions {
  /** A loopback address or `localhost`; any other address only together with a `token`. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** The document `lifeguard status --json` prints. */
  readonly status: () => Promise<unknown>;
  readonly metrics: () => Promise<{ body: string; contentType: string }>;
  /** lifeguard's own health (PM2 reachable, status being written), not the Gateways'. */
  readonly health: () => { ok: boolean; detail: string };
  readonly log: Logger;
}

export interface StatusServer {
  readonly port: number;
  close(): Promise<void>;
}

// Every request is a GET of a few hundred bytes from a local tool; the limits only have to let those through.
const MAX_URL_CHARS = 2048;
const MAX_HEADER_BYTES = 8192;
const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_TIMEOUT_MS = 2_000;
/** Node enforces the two timeouts above only when it sweeps connections, every 30 s unless told otherwise. */
const TIMEOUT_SWEEP_MS = 500;
const MAX_CONNECTIONS = 32;
const MAX_CONNECTIONS_PER_CLIENT = 8;
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * The read-only endpoint for tools: `/healthz`, `/status`, `/metrics`. Without a token it binds loopback
 * only and answers only requests addressed to a loopback name, so a web page cannot reach it through DNS
 * rebinding. With a token it may bind any address (a central Prometheus scrapes it), and every request
 * must present the token; a page in a browser cannot.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { host, port, log, token } = options;
  if (token === undefined && host !== 'localhost' && !isLoopbackAddress(host)) {
    throw new UserError(`the status endpoint binds a non-loopback address ("${host}") only with a bearer token (http.token in lifeguard.json5)`);
  }
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_SWEEP_MS },
    (req, res) => {
      handle(req, res, options).catch((error: unknown) => {
        log.error({ err: error, path: req.url }, 'status endpoint request failed');
        if (res.headersSent) res.destroy();
        else reply(req, res, 500, { error: 'internal error' });
      });
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Not `server.maxConnections`: at the cap Node refuses the newcomer, so whoever holds the connections
  // (one local process opening many) keeps everyone else out. The table below evicts the hog instead.
  const connections = new ConnectionTable(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT);
  server.on('connection', (socket: Socket) => connections.admit(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    connections.busy(req.socket, true);
    res.once('close', () => connections.busy(req.socket, false));
  });

  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use' : errorMessage(error);
      reject(new UserError(`the status endpoint cannot listen on ${host}:${port}: ${why} (http.port in lifeguard.json5)`));
    };
    server.once('error', refuse);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  // `localhost` resolves through the hosts file, which can point anywhere.
  if (token === undefined && !isLoopbackAddress(bound.address)) {
    await close();
    throw new UserError(`the status endpoint refused to listen on ${bound.address}: "${host}" does not resolve to a loopback address`);
  }
  server.on('error', (error) => log.error({ err: error }, 'status endpoint error'));
  log.info({ address: bound.address, port: bound.port, auth: token === undefined ? 'none' : 'bearer' }, 'status endpoint listening');
  return { port: bound.port, close };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: StatusServerOptions): Promise<void> {
  const url = req.url ?? '/';
  if (url.length > MAX_URL_CHARS) return reply(req, res, 414, { error: `URL longer than ${MAX_URL_CHARS} characters` });
  if (options.token !== undefined && !presentsToken(req.headers.authorization, options.token)) {
    return reply(req, res, 401, { error: 'this endpoint needs Authorization: Bearer <http.token>' }, { 'WWW-Authenticate': 'Bearer realm="lifeguard"' });
  }
  if (options.token === undefined && !isLoopbackHostHeader(req.headers.host)) return reply(req, res, 421, { error: 'this endpoint answers only requests to a loopback address or localhost' });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(req, res, 405, { error: `method ${req.method ?? '?'} not allowed: the endpoint is read-only` }, { Allow: ALLOWED_METHODS });
  }
  if (hasBody(req)) return reply(req, res, 413, { error: 'this endpoint takes no request body' });
  switch (url.split('?')[0]) {
    case '/healthz': {
      const health = options.health();
      return reply(req, res, health.ok ? 200 : 503, { ok: health.ok, detail: health.detail });
    }
    case '/status':
      return reply(req, res, 200, await options.status());
    case '/metrics': {
      const { body, contentType } = await options.metrics();
      return send(req, res, 200, contentType, body);
    }
    default:
      return reply(req, res, 404, { error: 'not found: try /healthz, /status or /metrics' });
  }
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, document: unknown, headers: Readonly<Record<string, string>> = {}): void {
  send(req, res, status, 'application/json; charset=utf-8', `${JSON.stringify(document, null, 2)}\n`, headers);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // A refused request may still have a body on the wire; closing spares reading it to reuse the connection.
    ...(status >= 400 ? { Connection: 'close' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Compared as digests, in constant time: neither the length nor a prefix of the token leaks. */
function presentsToken(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  if (presented === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** Browsers always send Host; a client that sends none (HTTP/1.0) is no web page. */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.toLowerCase() === 'localhost' || isLoopbackAddress(name);
}

/**
 * Open connections, oldest first, with the client (remote address) of each and whether it is being
 * answered. A new connection is always let in: when its client already holds the per-client share, that
 * client's oldest idle connection (no request in progress: keep-alive, or headers still dribbling in) is
 * closed; when the whole table is full, the oldest idle connection of the client holding the most is.
 * Only when everything is mid-answer is the newcomer refused. So a process that opens connections and
 * sends nothing only ever pushes out its own, and a client that sends its request at once is answered.
 */
class ConnectionTable {
  private readonly open = new Map<Socket, { client: string; busy: boolean }>();

  constructor(private readonly max: number, private readonly perClient: number) {}

  admit(socket: Socket): void {
    const client = socket.remoteAddress ?? 'unknown';
    const held = this.heldBy(client);
    const evictFrom = held.length >= this.perClient ? held : this.open.size >= this.max ? this.heldBy(this.busiestClient()) : [];
    if (evictFrom.length > 0) {
      const idle = evictFrom.find((s) => !this.open.get(s)!.busy);
      if (!idle) {
        socket.destroy();
        return;
      }
      this.open.delete(idle);
      idle.destroy();
    }
    this.open.set(socket, { client, busy: false });
    socket.once('close', () => this.open.delete(socket));
  }

  busy(socket: Socket, busy: boolean): void {
    const entry = this.open.get(socket);
    if (entry) entry.busy = busy;
  }

  private heldBy(client: string): Socket[] {
    return [...this.open].filter(([, entry]) => entry.client === client).map(([socket]) => socket);
  }

  private busiestClient(): string {
    const counts = new Map<string, number>();
    for (const { client } of this.open.values()) counts.set(client, (counts.get(client) ?? 0) + 1);
    return [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  }
}

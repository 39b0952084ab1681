import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6, type AddressInfo } from 'node:net';
import { UserError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface StatusServerOptions {
  /** A loopback address or `localhost`; anything else is refused: the endpoint is not meant for the network. */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
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
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * The read-only endpoint for tools: `/healthz`, `/status`, `/metrics`. It binds loopback only, and it
 * answers only requests addressed to a loopback name, so a web page cannot reach it through DNS rebinding.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const { host, port, log } = options;
  if (host !== 'localhost' && !isLoopbackAddress(host)) {
    throw new UserError(`the status endpoint binds loopback only (127.0.0.1, ::1 or localhost), not "${host}": it is not meant for the network`);
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
  server.maxConnections = MAX_CONNECTIONS;

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
  if (!isLoopbackAddress(bound.address)) {
    await close();
    throw new UserError(`the status endpoint refused to listen on ${bound.address}: "${host}" does not resolve to a loopback address`);
  }
  server.on('error', (error) => log.error({ err: error }, 'status endpoint error'));
  log.info({ address: bound.address, port: bound.port }, 'status endpoint listening');
  return { port: bound.port, close };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: StatusServerOptions): Promise<void> {
  const url = req.url ?? '/';
  if (url.length > MAX_URL_CHARS) return reply(req, res, 414, { error: `URL longer than ${MAX_URL_CHARS} characters` });
  if (!isLoopbackHostHeader(req.headers.host)) return reply(req, res, 421, { error: 'this endpoint answers only requests to a loopback address or localhost' });
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

function isLoopbackAddress(address: string): boolean {
  if (isIPv4(address)) return address.startsWith('127.');
  if (isIPv6(address)) return address === '::1' || /^::ffff:127\./i.test(address);
  return false;
}

/** Browsers always send Host; a client that sends none (HTTP/1.0) is no web page. */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.toLowerCase() === 'localhost' || isLoopbackAddress(name);
}

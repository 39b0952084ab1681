/**
 * A real HTTP receiver on 127.0.0.1 for alert deliveries: records every request it accepts, and can be
 * taken down (connection refused) and brought back on the same port, or made to fail or hang.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body parsed as JSON, when it is. */
  readonly json: unknown;
}

export type ReceiverMode = 'ok' | 'error' | 'hang' | 'garbage';

export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  mode: ReceiverMode = 'ok';
  /** Answers for a path prefix, e.g. a fake Telegram Bot API: `{ ok: true, result: {...} }`. */
  reply: (request: ReceivedRequest) => { status: number; body: string } = () => ({ status: 200, body: '{"ok":true}' });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private portNumber = 0;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.up();
    return receiver;
  }

  get port(): number {
    return this.portNumber;
  }

  url(path = '/'): string {
    return `http://127.0.0.1:${this.portNumber}${path}`;
  }

  /** Listens again (on the same port once it has one). */
  up(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.portNumber, host: '127.0.0.1' }, () => {
        this.portNumber = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stops listening and drops open connections: senders get connection refused. */
  down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** Whether it listens now (between `up()` and `down()`). */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Requests whose path starts with `prefix` (e.g. `/bot` for a fake Telegram Bot API), in arrival order. */
  requestsTo(prefix: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  /** Requests whose JSON body has this `event` (webhook bodies), in arrival order. */
  events(): Array<{ event: string; incidentId: string | null; idempotencyKey: string; body: Record<string, unknown> }> {
    return this.requests.flatMap((r) => {
      const body = r.json as Record<string, unknown> | undefined;
      if (!body || typeof body.event !== 'string') return [];
      return [{ event: body.event, incidentId: (body.incidentId as string | null) ?? null, idempotencyKey: String(body.idempotencyKey), body }];
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (this.mode === 'hang') return; // never answers; the sender's timeout must cut it
      if (this.mode === 'error') {
        res.writeHead(500).end('receiver broken');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request: ReceivedRequest = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      if (this.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json');
        return;
      }
      this.requests.push(request);
      const { status, body: answer } = this.reply(request);
      res.writeHead(status, { 'content-type': 'application/json' }).end(answer);
    });
  }
}

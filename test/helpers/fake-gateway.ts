import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** How the fake Gateway answers; each fault a real Gateway (or an impostor on its port) can show. */
export type FakeBehaviour =
  | 'healthy'
  | 'no-challenge'
  | 'garbage'
  | 'oversized'
  | 'wrong-protocol'
  | 'refuse-token'
  | 'health-error'
  | 'silent-after-connect'
  | 'frozen'
  | 'binary';

export interface FakeGateway {
  readonly port: number;
  behaviour: FakeBehaviour;
  readonly tokensSeen: string[];
  close(): Promise<void>;
}

/** A loopback stand-in for fault injection only; the real Gateways are exercised in test/e2e. */
export async function startFakeGateway(token: string, behaviour: FakeBehaviour = 'healthy'): Promise<FakeGateway> {
  const http: Server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 503 : 200, { 'content-type': 'application/json' });
    res.end(req.url === '/readyz' ? '{"ready":false,"failing":["startup-sidecars"]}' : '{"ok":true,"status":"live"}');
  });
  const wss = new WebSocketServer({ server: http });
  const fake: FakeGateway = {
    port: 0,
    behaviour,
    tokensSeen: [],
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => http.close(() => resolve()));
    }),
  };
  wss.on('connection', (socket: WebSocket) => {
    const mode = fake.behaviour;
    if (mode === 'no-challenge') return;
    if (mode === 'garbage') return socket.send('this is not json {');
    if (mode === 'binary') return socket.send(Buffer.from([1, 2, 3]));
    if (mode === 'oversized') return socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { pad: 'x'.repeat(3 * 1024 * 1024) } }));
    socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }));
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { id: string; method: string; params?: { auth?: { token?: string } } };
      if (frame.method === 'connect') {
        fake.tokensSeen.push(frame.params?.auth?.token ?? '');
        if (mode === 'silent-after-connect') return;
        if (mode === 'refuse-token' || frame.params?.auth?.token !== token) {
          socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: false, error: { code: 'INVALID_REQUEST', message: `unauthorized: gateway token mismatch (got ${frame.params?.auth?.token})` } }));
          return socket.close(1008, 'unauthorized');
        }
        const protocol = mode === 'wrong-protocol' ? 9 : 4;
        socket.send(JSON.stringify({ type: 'event', event: 'tick', payload: {} }));
        return socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { type: 'hello-ok', protocol, server: { version: 'fake' }, snapshot: { uptimeMs: 1234 } } }));
      }
      if (frame.method === 'health') {
        // Read now, not at connect: a test can freeze or break a Gateway behind an open connection.
        if (fake.behaviour === 'frozen') return;
        if (fake.behaviour === 'health-error') return socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: false, error: { code: 'UNAVAILABLE', message: 'gateway starting' } }));
        return socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { ok: true } }));
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, { port: (http.address() as { port: number }).port });
}

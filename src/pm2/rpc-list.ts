import { createRequire } from 'node:module';
import { join } from 'node:path';
import { toAppStatus, type AppStatus } from './app-status.js';
import { isPm2DaemonRunning, pm2Home } from './daemon.js';

interface ReqSocket {
  connect(path: string): void;
  close(): void;
  once(event: 'connect' | 'error', handler: (error?: Error) => void): void;
}
interface RpcClient {
  call(method: string, arg: unknown, callback: (error: Error | null, value: unknown) => void): void;
}

/**
 * PM2's process list, asked over the daemon's RPC socket with PM2's own wire library. Read-only commands
 * use this instead of PM2's API, whose import alone costs more than the whole `status` command may take.
 * Undefined when no daemon runs (it never starts one) or it does not answer in time.
 */
export async function listPm2Apps(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5_000): Promise<AppStatus[] | undefined> {
  if (!isPm2DaemonRunning(env)) return undefined;
  const require = createRequire(import.meta.url);
  const axon = require('pm2/modules/pm2-axon') as { socket(type: 'req'): ReqSocket };
  const Client = require('pm2/modules/pm2-axon-rpc').Client as new (socket: ReqSocket) => RpcClient;
  const socket = axon.socket('req');
  const client = new Client(socket);
  try {
    return await new Promise<AppStatus[] | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      const done = (value: AppStatus[] | undefined) => {
        clearTimeout(timer);
        resolve(value);
      };
      socket.once('error', () => done(undefined));
      socket.once('connect', () => {
        client.call('getMonitorData', {}, (error, list) => {
          done(error || !Array.isArray(list) ? undefined : list.map(toAppStatus).filter((app): app is AppStatus => app !== undefined));
        });
      });
      socket.connect(join(pm2Home(env), 'rpc.sock'));
    });
  } finally {
    socket.close();
  }
}

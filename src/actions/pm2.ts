import { z } from 'zod';
import { toAppStatus, type AppStatus } from '../pm2/app-status.js';

export type { AppStatus } from '../pm2/app-status.js';

export { isPm2DaemonRunning, pm2Home } from '../pm2/daemon.js';

/** The few fields lifeguard reads from PM2; zod drops the rest, including the app's env (secrets). */
const processInfo = z.object({
  name: z.string(),
  pm_id: z.number(),
  status: z.string().optional(),
  exit_code: z.number().nullable().optional(),
  restart_time: z.number().optional(),
  pm_uptime: z.number().optional(),
});

const processEvent = z.object({
  event: z.string(),
  at: z.number(),
  process: processInfo,
});

const logEvent = z.object({
  process: z.object({ name: z.string() }),
  at: z.number(),
  data: z.string(),
});

export type Pm2ProcessEvent = z.infer<typeof processEvent> & { readonly pid: number | undefined };
export type Pm2LogEvent = z.infer<typeof logEvent> & { readonly stream: 'out' | 'err' };
/** How an app's process ended, read from the daemon's own "exited with code [..] via signal [..]" line. */
export interface Pm2ExitDetail {
  readonly name: string;
  readonly code: number;
  readonly signal: string | null;
}

const EXIT_LINE = /App \[(.+?):\d+\] exited with code \[(-?\d+)\] via signal \[(\w*)\]/;

/**
 * PM2 passes `code || 0` and prints SIGINT when there was no signal, so a signal is only believed when
 * the code is 0 and the signal is not that placeholder.
 */
export function parseExitLine(line: string): Pm2ExitDetail | undefined {
  const match = EXIT_LINE.exec(line);
  if (!match) return undefined;
  const code = Number(match[2]);
  const signal = match[3] && match[3] !== 'SIGINT' && code === 0 ? match[3] : null;
  return { name: match[1]!, code, signal };
}

export interface Pm2Client {
  describe(name: string): Promise<AppStatus | undefined>;
  list(): Promise<AppStatus[]>;
  restart(name: string): Promise<void>;
  stop(name: string): Promise<void>;
  /** Makes PM2 reopen every app's log files (after they were renamed by log rotation). */
  reloadLogs(): Promise<void>;
  /** Subscribes to process events and log lines; the bus reconnects by itself if the daemon restarts. */
  subscribe(handlers: {
    onProcess: (event: Pm2ProcessEvent) => void;
    onLog: (event: Pm2LogEvent) => void;
    onExitDetail: (detail: Pm2ExitDetail) => void;
  }): Promise<void>;
  close(): void;
}

type Callback<T> = (error: Error | null, value: T) => void;
// pm2's own typings are partial (the bus is `any`, several fields are missing), so the surface used here is declared.
interface Pm2Api {
  connect(callback: (error: Error | null) => void): void;
  disconnect(): void;
  describe(name: string, callback: Callback<unknown[]>): void;
  list(callback: Callback<unknown[]>): void;
  restart(name: string, callback: Callback<unknown>): void;
  stop(name: string, callback: Callback<unknown>): void;
  reloadLogs(callback: Callback<unknown>): void;
  launchBus(callback: Callback<{ on(topic: string, handler: (packet: unknown) => void): void }>): void;
}

/**
 * Connects to the PM2 daemon of `PM2_HOME`. Every call has a timeout: after a daemon death, PM2 calls
 * hang forever instead of failing.
 */
export async function connectPm2(options: { timeoutMs?: number } = {}): Promise<Pm2Client> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Inherited from a CLI-started daemon, PM2_USAGE makes callback-less API calls print tables or exit.
  delete process.env.PM2_USAGE;
  process.env.PM2_DISABLE_VERSION_CHECK ??= '1';
  const pm2 = (await import('pm2')).default as unknown as Pm2Api;
  const call = <T>(what: string, run: (callback: Callback<T>) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PM2 ${what} did not answer within ${timeoutMs} ms (is the PM2 daemon alive?)`)), timeoutMs);
      run((error, value) => {
        clearTimeout(timer);
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(value);
      });
    });
  await call<void>('connect', (callback) => pm2.connect((error) => callback(error, undefined)));
  return {
    async describe(name) {
      const found = await call<unknown[]>(`describe ${name}`, (cb) => pm2.describe(name, cb));
      return found.map(toAppStatus).find((s) => s !== undefined);
    },
    async list() {
      const found = await call<unknown[]>('list', (cb) => pm2.list(cb));
      return found.map(toAppStatus).filter((s): s is AppStatus => s !== undefined);
    },
    async restart(name) {
      await call(`restart ${name}`, (cb) => pm2.restart(name, cb));
    },
    async stop(name) {
      await call(`stop ${name}`, (cb) => pm2.stop(name, cb));
    },
    async reloadLogs() {
      await call('reloadLogs', (cb) => pm2.reloadLogs(cb));
    },
    async subscribe({ onProcess, onLog, onExitDetail }) {
      const bus = await call<{ on(topic: string, handler: (packet: unknown) => void): void }>('launchBus', (cb) => pm2.launchBus(cb));
      bus.on('process:event', (packet) => {
        const parsed = processEvent.safeParse(packet);
        const pid = z.object({ process: z.object({ pid: z.number().optional() }) }).safeParse(packet);
        if (parsed.success) onProcess({ ...parsed.data, pid: pid.success ? pid.data.process.pid : undefined });
      });
      for (const stream of ['out', 'err'] as const) {
        bus.on(`log:${stream}`, (packet) => {
          const parsed = logEvent.safeParse(packet);
          if (parsed.success) onLog({ ...parsed.data, stream });
        });
      }
      bus.on('log:PM2', (packet) => {
        const data = z.object({ data: z.string() }).safeParse(packet);
        const detail = data.success ? parseExitLine(data.data.data) : undefined;
        if (detail) onExitDetail(detail);
      });
    },
    close() {
      pm2.disconnect();
    },
  };
}

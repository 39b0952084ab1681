/** PM2's view of one app: the few fields lifeguard reads (never the app's env, which holds secrets). */
export interface AppStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly status: string;
  readonly restarts: number;
  readonly uptimeSince: number | undefined;
  readonly outLog: string | undefined;
  readonly errLog: string | undefined;
  /** The port the app was started with (`--port N` in its arguments): what runs, whatever the config now says. */
  readonly port: number | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const numberOr = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const stringOr = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** One entry of PM2's process list, as its API and its RPC both return it; undefined when it is not one. */
export function toAppStatus(raw: unknown): AppStatus | undefined {
  if (!isRecord(raw) || typeof raw.name !== 'string' || !isRecord(raw.pm2_env)) return undefined;
  const env = raw.pm2_env;
  const status = stringOr(env.status);
  if (status === undefined) return undefined;
  const pid = numberOr(raw.pid);
  return {
    name: raw.name,
    pid: pid ? pid : undefined,
    status,
    restarts: numberOr(env.restart_time) ?? 0,
    uptimeSince: status === 'online' ? numberOr(env.pm_uptime) : undefined,
    outLog: stringOr(env.pm_out_log_path),
    errLog: stringOr(env.pm_err_log_path),
    port: portArgument(env.args),
  };
}

function portArgument(args: unknown): number | undefined {
  if (!Array.isArray(args)) return undefined;
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : Number.NaN;
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

import { dirname, join } from 'node:path';
import type { ResolvedInstance } from '../config/instance.js';
import type { ResolvedInstances } from '../config/resolve-instances.js';
import { DEFAULT_PROFILE, FLAVOUR_NAMES } from '../config/paths.js';
import type { GatewayRuntime } from '../runtime/resolve.js';
import { ANOTHER_SUPERVISOR_EXIT_CODE } from '../daemon/single-instance.js';

/** A PM2 app declaration, as the ecosystem file hands it to `pm2 start`. */
export interface Pm2App {
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
  readonly interpreter?: string;
  readonly node_args?: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly filter_env?: readonly string[];
  readonly autorestart: boolean;
  readonly min_uptime: number;
  readonly max_restarts: number;
  readonly exp_backoff_restart_delay?: number;
  readonly kill_timeout: number;
  readonly stop_exit_codes?: readonly number[];
  readonly treekill: boolean;
  readonly out_file: string;
  readonly error_file: string;
  readonly merge_logs: boolean;
}

export interface AppsContext {
  readonly runtime: GatewayRuntime;
  readonly instances: ResolvedInstances;
  readonly lifeguardHome: string;
  readonly userHome: string;
  /** Absolute path of lifeguard's CLI script (dist/cli.js). */
  readonly cliScript: string;
  /** Absolute path of the supervisor's entry (dist/supervise.js). */
  readonly superviseScript: string;
  /** The lifeguard config file in effect, pinned into every app so that each one reads the same file. */
  readonly configSource: string | undefined;
  /** Node that runs lifeguard itself. */
  readonly lifeguardNode: string;
  /** The PM2 home the supervisor must connect to (it gets no inherited env). */
  readonly pm2Home: string;
  /** PATH for the supervisor. */
  readonly path: string;
  /** LIFEGUARD_LOG_LEVEL of whoever started it, if set: the one variable passed through. */
  readonly logLevel?: string | undefined;
}

export const LIFEGUARD_APP = 'lifeguard';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function logFilesOf(lifeguardHome: string, appName: string) {
  return { out: join(lifeguardHome, 'logs', `${appName}.out.log`), err: join(lifeguardHome, 'logs', `${appName}.err.log`) };
}

/**
 * The whole environment a Gateway runs with: nothing inherited, everything explicit. Also what
 * lifeguard gives the Gateway's CLI when it runs it for the same instance (validation, messages).
 */
export function gatewayEnvOf(
  instance: ResolvedInstance, ctx: Pick<AppsContext, 'runtime' | 'userHome' | 'lifeguardHome'>,
): Record<string, string> {
  const prefix = FLAVOUR_NAMES[instance.flavour].envPrefix;
  return {
    ...instance.extraEnv,
    PATH: `${dirname(ctx.runtime.node)}:${SYSTEM_PATH}`,
    HOME: ctx.userHome,
    NODE_ENV: 'production',
    // The Gateway colours its output whenever TERM is set, TTY or not; PM2 log files want plain text.
    NO_COLOR: '1',
    [`${prefix}_CONFIG_PATH`]: instance.configPath,
    [`${prefix}_STATE_DIR`]: instance.stateDir,
    [`${prefix}_GATEWAY_PORT`]: String(instance.port),
    ...(instance.profile === DEFAULT_PROFILE ? {} : { [`${prefix}_PROFILE`]: instance.profile }),
    // One process per app: the CLI otherwise re-spawns itself and PM2 would watch the wrong pid.
    [`${prefix}_NO_RESPAWN`]: '1',
    ...(instance.bonjour ? {} : { [`${prefix}_DISABLE_BONJOUR`]: '1' }),
    LIFEGUARD_INSTANCE: instance.name,
    LIFEGUARD_HOME: ctx.lifeguardHome,
  };
}

/**
 * PM2 runs the Node binary itself with the Gateway CLI as its first argument: handing the CLI to PM2's
 * own fork container leaves OpenClaw idle and never listening.
 */
export function gatewayApp(instance: ResolvedInstance, ctx: AppsContext, extraEnv: Readonly<Record<string, string>> = {}): Pm2App {
  const logs = logFilesOf(ctx.lifeguardHome, instance.appName);
  const pinned = ctx.configSource ? { LIFEGUARD_CONFIG: ctx.configSource } : {};
  return {
    name: instance.appName,
    script: ctx.runtime.node,
    args: [ctx.runtime.entry, 'gateway', '--port', String(instance.port)],
    interpreter: 'none',
    cwd: instance.stateDir,
    // PM2 otherwise passes the caller's whole environment (and its secrets) to the app.
    filter_env: [''],
    env: { ...gatewayEnvOf(instance, ctx), ...pinned, ...extraEnv },
    autorestart: true,
    min_uptime: 30_000,
    max_restarts: 1_000,
    exp_backoff_restart_delay: 1_000,
    // Enough for the Gateway to send `shutdown` to its clients and drain.
    kill_timeout: 20_000,
    // 78 (EX_CONFIG) is OpenClaw's "config invalid": restarting cannot help.
    stop_exit_codes: [78],
    treekill: true,
    out_file: logs.out,
    error_file: logs.err,
    merge_logs: true,
  };
}

export function buildApps(ctx: AppsContext): Pm2App[] {
  const { main, rescue } = ctx.instances;
  const lifeguardCli = `${ctx.lifeguardNode} ${ctx.cliScript}`;
  const logs = logFilesOf(ctx.lifeguardHome, LIFEGUARD_APP);
  return [
    gatewayApp(main, ctx),
    gatewayApp(rescue, ctx, {
      LIFEGUARD_MAIN_CONFIG_PATH: main.configPath,
      LIFEGUARD_MAIN_STATE_DIR: main.stateDir,
      LIFEGUARD_MAIN_PORT: String(main.port),
      LIFEGUARD_CLI: lifeguardCli,
      // The repair commands the rescue agent runs must find the same PM2 as the supervisor (and the same config: above).
      PM2_HOME: ctx.pm2Home,
      LIFEGUARD_GATEWAY_BIN: ctx.runtime.entry,
      LIFEGUARD_GATEWAY_NODE: ctx.runtime.node,
    }),
    {
      name: LIFEGUARD_APP,
      script: ctx.superviseScript,
      args: [],
      interpreter: ctx.lifeguardNode,
      // A small young generation and GC on the main thread: the supervisor idles, and its RSS is the cost.
      node_args: ['--max-semi-space-size=1', '--single-threaded'],
      cwd: ctx.lifeguardHome,
      filter_env: [''],
      env: {
        PATH: ctx.path,
        HOME: ctx.userHome,
        PM2_HOME: ctx.pm2Home,
        PM2_DISABLE_VERSION_CHECK: '1',
        LIFEGUARD_HOME: ctx.lifeguardHome,
        ...(ctx.logLevel ? { LIFEGUARD_LOG_LEVEL: ctx.logLevel } : {}),
        ...(ctx.configSource ? { LIFEGUARD_CONFIG: ctx.configSource } : {}),
        LIFEGUARD_GATEWAY_BIN: ctx.runtime.entry,
        LIFEGUARD_GATEWAY_NODE: ctx.runtime.node,
      },
      autorestart: true,
      // A copy that found another supervisor on the same LIFEGUARD_HOME must not be started again and again.
      stop_exit_codes: [ANOTHER_SUPERVISOR_EXIT_CODE],
      min_uptime: 5_000,
      max_restarts: 1_000,
      exp_backoff_restart_delay: 1_000,
      kill_timeout: 5_000,
      treekill: true,
      out_file: logs.out,
      error_file: logs.err,
      merge_logs: true,
    },
  ];
}

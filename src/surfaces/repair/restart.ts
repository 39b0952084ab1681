import { setTimeout as sleep } from 'node:timers/promises';
import type { Pm2Client } from '../../actions/pm2.js';
import { restartApp } from '../../actions/pm2-restart.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { redactText } from '../../secrets/redact.js';
import { runProbeCycle, type ProbeCycleResult } from '../../probes/cycle.js';
import { GatewaySession } from '../../probes/gateway-ws.js';
import { listSnapshots } from '../../snapshots/store.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { describeConfigVerdict } from '../diagnose.js';
import { EXIT } from '../commands/exit-codes.js';
import { configFix } from './config-report.js';
import { openPm2 } from './pm2-access.js';
import { endpointOf, validateTarget, type RepairTarget } from './target.js';
import { ownerCommand } from '../../core/command-line.js';

/** A one-off probe gets more time than the supervisor's routine one: a cold handshake is slower. */
export const ONE_SHOT_PROBE_MS = 3_000;
/** PM2 restarting it this often by itself while we wait means it cannot start: waiting longer will not help. */
const CRASHES_BEFORE_GIVING_UP = 3;

export type RestartState = 'healthy' | 'degraded' | 'down' | 'not-running' | 'refused' | 'not-waited';

/** What a restart did, as `restart --json` prints it; `state` is the outcome, `detail` the words for people. */
export interface RestartReport {
  readonly instance: string;
  readonly restarted: boolean;
  /** null with --no-wait: not looked at. */
  readonly healthy: boolean | null;
  readonly state: RestartState;
  readonly waitedMs: number;
  readonly detail: string;
}

export interface RestartOptions {
  /** Check the config first and refuse an invalid one; off after a restore (the snapshot was valid). */
  readonly validate: boolean;
  /** Restart even into a config that does not validate. */
  readonly force: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  /** When the command was run: a process PM2 started after this already is the restart asked for. */
  readonly askedAt: number;
}

/** Why a restart could not even be tried; a UserError, so a command that does not catch it exits with its code. */
export class RestartImpossible extends UserError {
  constructor(message: string, exitCode: number, readonly reason: 'pm2-unreachable' | 'not-registered' | 'pm2-refused') {
    super(message, exitCode);
  }
}

export function restartExitCode(report: RestartReport): number {
  if (report.state === 'refused') return EXIT.refused;
  return report.healthy === false ? EXIT.failed : EXIT.ok;
}

/**
 * The one restart-and-wait of the CLI (`restart`, `config restore`): checks the config, restarts (or starts)
 * the app through PM2, then waits for the Gateway's own probes. What could not even be tried (PM2 down,
 * app not registered, PM2 refusing) is a UserError with its exit code; everything else is a report.
 */
export async function restartGateway(target: RepairTarget, options: RestartOptions): Promise<RestartReport> {
  const { instance } = target;
  const base = { instance: instance.name };
  const config = options.validate ? describeConfigVerdict(await validateTarget(target)) : undefined;
  if (config?.valid === false && !options.force) {
    const snapshots = (await listSnapshots(target.settings.home, instance.name).catch(() => [])).length;
    return {
      ...base, restarted: false, healthy: false, state: 'refused', waitedMs: 0,
      detail: `refused: the config is invalid (${config.detail}); restarting would take ${instance.name} down until it is fixed. Fix: ${configFix(instance.name, instance.configPath, snapshots)}; or restart anyway with --force`,
    };
  }
  const pm2 = await openPm2().catch((error: unknown) => {
    throw new RestartImpossible(errorMessage(error), EXIT.pm2, 'pm2-unreachable');
  });
  try {
    const before = await pm2.describe(instance.appName).catch((error: unknown) => {
      throw new RestartImpossible(`PM2 is not reachable: ${errorMessage(error)}`, EXIT.pm2, 'pm2-unreachable');
    });
    if (!before) throw new RestartImpossible(`${instance.appName} is not registered in PM2.\nFix: start everything with: ${ownerCommand('up')}`, EXIT.failed, 'not-registered');
    // A second `restart` that waited for the lock finds the first one's fresh process: once is enough.
    const already = before.status === 'online' && before.uptimeSince !== undefined && before.uptimeSince >= options.askedAt;
    if (!already) await restartThroughPm2(pm2, instance.appName);
    const how = already
      ? `already restarted at ${new Date(before.uptimeSince!).toISOString()} while this command waited; not restarted again`
      : `${before.status === 'online' ? 'restarted' : `started (was ${before.status})`} through PM2${config?.valid === false ? ' with --force, into an invalid config' : ''}`;
    if (!options.wait) return { ...base, restarted: !already, healthy: null, state: 'not-waited', waitedMs: 0, detail: `${how}; not waiting for health` };
    const health = await waitForHealth(target, pm2, options.timeoutMs);
    return { ...base, restarted: !already, ...health, detail: `${how}; ${health.detail}` };
  } finally {
    pm2.close();
  }
}

/** PM2 marks this start as requested for the supervisor by itself: a running app passes through `stopping`. */
async function restartThroughPm2(pm2: Pm2Client, appName: string): Promise<void> {
  try {
    await restartApp(pm2, appName);
  } catch (error) {
    const message = errorMessage(error);
    const unreachable = /did not answer/.test(message);
    throw new RestartImpossible(`PM2 could not restart ${appName}: ${message}`, unreachable ? EXIT.pm2 : EXIT.failed, unreachable ? 'pm2-unreachable' : 'pm2-refused');
  }
}

/** Polls PM2 and the Gateway's own probes (not the supervisor's status file: it may be down). */
async function waitForHealth(target: RepairTarget, pm2: Pm2Client, timeoutMs: number): Promise<Omit<RestartReport, 'instance' | 'restarted'>> {
  const { instance, settings } = target;
  const started = Date.now();
  const result = (healthy: boolean, state: RestartState, detail: string) => ({ healthy, state, waitedMs: Date.now() - started, detail: redactText(detail, target.secrets) });
  const logsHint = `see: lifeguard logs ${instance.name} --lines 100`;
  const session = new GatewaySession(endpointOf(instance).url, LIFEGUARD_VERSION);
  let streak = 0;
  let status = 'unknown';
  let baseline: number | undefined;
  let last: ProbeCycleResult | undefined;
  try {
    for (;;) {
      const app = await pm2.describe(instance.appName).catch(() => null);
      if (app !== null) {
        status = app?.status ?? 'not registered';
        baseline ??= app?.restarts;
        if (status === 'stopped' || status === 'errored' || status === 'not registered') {
          return result(false, 'not-running', `PM2 says ${status}: the Gateway exited after the restart; ${logsHint}`);
        }
        if (app && baseline !== undefined && app.restarts - baseline >= CRASHES_BEFORE_GIVING_UP) {
          return result(false, 'down', `it keeps exiting (PM2 restarted it ${app.restarts - baseline} times since); ${logsHint}`);
        }
      }
      if (status === 'online') {
        last = await runProbeCycle(instance, session, Math.max(settings.probes.timeoutMs, ONE_SHOT_PROBE_MS));
        streak = last.live && last.ready ? streak + 1 : 0;
        if (streak >= settings.probes.successThreshold) {
          return result(true, 'healthy', `healthy after ${Math.round((Date.now() - started) / 1000)} s (pid ${app?.pid ?? '?'}): ${last.detail}`);
        }
      }
      if (Date.now() - started >= timeoutMs) break;
      await sleep(1_000);
    }
  } finally {
    session.close();
  }
  const seconds = Math.round(timeoutMs / 1000);
  if (status !== 'online') return result(false, 'down', `not running within ${seconds} s (PM2: ${status}); ${logsHint}`);
  if (last?.live) return result(false, 'degraded', `live but not ready within ${seconds} s: ${last.detail}`);
  return result(false, 'down', `not answering within ${seconds} s: ${last?.detail ?? 'not probed'}; ${logsHint}`);
}

export function renderRestart(r: RestartReport): string {
  const head = r.state === 'refused' ? `${r.instance}: NOT restarted` : `${r.instance}: ${r.state.toUpperCase()}`;
  return `${head}\n  ${r.detail}`;
}

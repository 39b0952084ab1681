import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { loadConfig, type LifeguardConfig } from '../config/load.js';
import { readGatewayConfig } from '../config/gateway-config.js';
import { loadGatewayEnv } from '../config/gateway-env.js';
import { resolveInstances } from '../config/resolve-instances.js';
import { INSTANCE_NAMES } from '../config/schema.js';
import { createLogger, redactText } from '../core/log.js';
import { killTree } from '../actions/kill-tree.js';
import { connectPm2, type Pm2Client, type Pm2ExitDetail, type Pm2LogEvent, type Pm2ProcessEvent } from '../actions/pm2.js';
import { resumeSnapshot } from '../detector/machine.js';
import type { DetectorEffect, DetectorSettings } from '../detector/types.js';
import { runProbeCycle } from '../probes/cycle.js';
import { GatewaySession } from '../probes/gateway-ws.js';
import { resolveGatewayRuntime } from '../runtime/resolve.js';
import { createJournal } from '../surfaces/journal.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { InstanceWatcher } from './instance-watcher.js';
import { OperatorActionTracker } from './pm2-events.js';
import { readStatus, writeStatus } from './status-store.js';

const ERROR_TAIL_LINES = 40;
const RECONCILE_EVERY_MS = 15_000;
const STATUS_URGENT_MS = 100;
const STATUS_ROUTINE_MS = 5_000;
/** PM2 statuses on the way to `online` (between crash restarts, `waiting restart` lasts the backoff). */
const TRANSITIONAL_STATUSES = new Set(['launching', 'waiting restart', 'stopping']);

export function detectorSettings(config: LifeguardConfig): DetectorSettings {
  return {
    failureThreshold: config.probes.failureThreshold,
    successThreshold: config.probes.successThreshold,
    startupGraceMs: config.probes.startupGraceMs,
    crashLoopExits: config.restarts.crashLoopExits,
    crashLoopWindowMs: config.restarts.crashLoopWindowMs,
    maxRestartsPerHour: config.restarts.maxPerHour,
  };
}

/** The long-running supervisor that PM2 runs as the `lifeguard` app. */
export async function runSupervisor(env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const config = await loadConfig({ env, cwd });
  const log = createLogger({ level: config.logLevel });
  const runtime = await resolveGatewayRuntime(config, { env, provision: false, progress: (line) => log.info(line) });
  const instances = await resolveInstances(config, runtime.flavour);
  const pm2 = await connectPm2();
  const journal = createJournal(config.home);
  const settings = detectorSettings(config);
  const startedAt = Date.now();
  const previous = await readStatus(config.home);
  const tails = new Map<string, Array<{ stream: 'out' | 'err'; line: string }>>();
  const exitDetails = new Map<string, Pm2ExitDetail>();
  const operatorActions = new OperatorActionTracker();
  const pids = new Map<string, number | undefined>();

  const secretsByApp = new Map<string, () => string[]>();
  const saveStatus = () =>
    writeStatus(config.home, { pid: process.pid, startedAt, updatedAt: Date.now(), instances: watchers.map((w) => w.status()) });

  // Routine probe results are written every few seconds; a state change within a moment.
  let statusTimer: NodeJS.Timeout | undefined;
  let statusDue = 0;
  const scheduleStatus = (urgent: boolean) => {
    const due = Date.now() + (urgent ? STATUS_URGENT_MS : STATUS_ROUTINE_MS);
    if (statusTimer && due >= statusDue) return;
    if (statusTimer) clearTimeout(statusTimer);
    statusDue = due;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      saveStatus().catch((error: unknown) => log.error({ err: error }, 'cannot write status'));
    }, due - Date.now());
  };

  const sessions: GatewaySession[] = [];
  const watchers = INSTANCE_NAMES.map((name) => {
    let instance = instances[name];
    let configMtime = 0;
    // The token may be rotated while lifeguard runs; redaction always uses the current one.
    const secrets = () => (instance.token ? [instance.token] : []);
    secretsByApp.set(instance.appName, secrets);
    const refreshToken = async () => {
      const mtime = await stat(instance.configPath).then((s) => s.mtimeMs, () => 0);
      if (mtime === configMtime) return;
      configMtime = mtime;
      const read = await readGatewayConfig(instance.configPath, await loadGatewayEnv(instance.stateDir, instance.extraEnv));
      if (read.ok && read.facts.token !== instance.token) instance = { ...instance, token: read.facts.token };
    };
    const session = new GatewaySession(`ws://127.0.0.1:${instance.port}`, LIFEGUARD_VERSION);
    sessions.push(session);
    const execute = (effect: DetectorEffect) => {
      if (effect.type === 'stop') operatorActions.expectStop(instance.appName);
      return executeEffect(effect, { name, appName: instance.appName, pm2, log, journal, secrets });
    };
    const saved = previous?.instances.find((i) => i.instance === name)?.detector;
    return new InstanceWatcher(instance, resumeSnapshot(saved, Date.now(), settings), {
      settings,
      log,
      now: Date.now,
      intervalMs: config.probes.intervalMs,
      retryIntervalMs: config.probes.retryIntervalMs,
      onChange: scheduleStatus,
      execute,
      processStatus: async () => {
        const app = await pm2.describe(instance.appName).catch(() => null);
        if (app === null) return undefined;
        const status = app?.status ?? 'not registered in PM2';
        if (status === 'stopping') operatorActions.noteHeld(instance.appName);
        return status;
      },
      probe: async () => {
        await refreshToken();
        return runProbeCycle(instance, session, config.probes.timeoutMs);
      },
    });
  });
  const watcherFor = (appName: string) => watchers.find((w) => w.instance.appName === appName);

  const onLog = (event: Pm2LogEvent) => {
    if (!watcherFor(event.process.name)) return;
    const lines = tails.get(event.process.name) ?? [];
    for (const line of event.data.split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
      lines.push({ stream: event.stream, line: redactText(line, secretsByApp.get(event.process.name)?.() ?? []).slice(0, 500) });
    }
    tails.set(event.process.name, lines.slice(-ERROR_TAIL_LINES));
  };
  const onProcess = (event: Pm2ProcessEvent) => {
    const watcher = watcherFor(event.process.name);
    if (!watcher) return;
    if (event.event === 'exit') {
      const manual = operatorActions.exitWasRequested(event.process.name, event.process.status);
      const pid = pids.get(event.process.name);
      const detail = exitDetails.get(event.process.name);
      const tail = tails.get(event.process.name) ?? [];
      pids.set(event.process.name, undefined);
      exitDetails.delete(event.process.name);
      tails.set(event.process.name, []);
      void watcher.dispatch({
        type: 'exit', at: event.at, pid, manual,
        code: detail?.signal ? null : detail?.code ?? event.process.exit_code ?? null,
        signal: detail?.signal ?? null,
        output: tail.map((t) => t.line),
        errorOutput: tail.filter((t) => t.stream === 'err').map((t) => t.line),
      });
    } else if (event.event === 'online') {
      const manual = operatorActions.onlineWasRequested(event.process.name);
      void pm2.describe(event.process.name).then((app) => {
        if (app?.pid === undefined) return;
        pids.set(event.process.name, app.pid);
        return watcher.dispatch({ type: 'online', at: event.at, pid: app.pid, manual });
      }).catch((error: unknown) => log.warn({ err: error }, 'describe after online failed'));
    } else if (event.event === 'restart overlimit') {
      operatorActions.noteHeld(event.process.name);
      void watcher.dispatch({ type: 'overlimit', at: event.at });
    }
  };

  /** Catches anything the bus missed (a reconnect, a lifeguard restart) by comparing PM2's view with ours. */
  const reconcile = async () => {
    for (const watcher of watchers) {
      const app = await pm2.describe(watcher.instance.appName).catch((error: unknown) => {
        log.warn({ err: error }, 'PM2 describe failed');
        return null;
      });
      if (app === null) continue;
      if (app?.status === 'online' && app.pid !== undefined) {
        if (pids.get(watcher.instance.appName) !== app.pid) {
          pids.set(watcher.instance.appName, app.pid);
          // Grace runs from the spawn PM2 saw, so a Gateway hung before lifeguard started is not given a new one.
          await watcher.dispatch({ type: 'online', at: app.uptimeSince ?? Date.now(), pid: app.pid, manual: false });
        }
      } else if (!TRANSITIONAL_STATUSES.has(app?.status ?? '')) {
        pids.set(watcher.instance.appName, undefined);
        operatorActions.noteHeld(watcher.instance.appName);
        await watcher.dispatch({ type: 'not-running', at: Date.now(), status: app?.status ?? 'not registered in PM2' });
      }
      await watcher.dispatch({ type: 'tick', at: Date.now() });
    }
  };

  await pm2.subscribe({ onProcess, onLog, onExitDetail: (detail) => exitDetails.set(detail.name, detail) });
  await reconcile();
  for (const watcher of watchers) watcher.start();
  const reconcileTimer = setInterval(() => void reconcile(), RECONCILE_EVERY_MS);
  log.info({ flavour: runtime.flavour, instances: watchers.map((w) => ({ name: w.instance.name, port: w.instance.port })) }, 'lifeguard supervising');

  const shutdown = (signal: string) => {
    log.info({ signal }, 'lifeguard stopping');
    clearInterval(reconcileTimer);
    for (const watcher of watchers) watcher.stop();
    for (const session of sessions) session.close();
    void saveStatus().finally(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

interface EffectContext {
  readonly name: string;
  readonly appName: string;
  readonly pm2: Pm2Client;
  readonly log: Logger;
  readonly journal: ReturnType<typeof createJournal>;
  readonly secrets: () => string[];
}

async function executeEffect(effect: DetectorEffect, ctx: EffectContext): Promise<void> {
  const log = ctx.log.child({ instance: ctx.name });
  switch (effect.type) {
    case 'transition': {
      const reason = redactText(effect.reason, ctx.secrets());
      log.info({ from: effect.from, to: effect.to, reason, classification: effect.classification }, 'state change');
      await ctx.journal.append({
        ts: new Date().toISOString(), instance: ctx.name, from: effect.from, to: effect.to, reason,
        ...(effect.classification ? { classification: effect.classification } : {}),
      });
      return;
    }
    case 'restart':
      if (effect.kill && effect.pid !== undefined) {
        const killed = await killTree(effect.pid);
        log.warn({ pids: killed, reason: effect.reason }, 'killed the unresponsive Gateway; PM2 starts it again');
      } else {
        log.warn({ reason: effect.reason }, 'restarting through PM2');
        await ctx.pm2.restart(ctx.appName).catch((error: unknown) => log.error({ err: error }, 'PM2 restart failed'));
      }
      return;
    case 'stop':
      log.warn({ reason: effect.reason }, 'stopping the PM2 app so PM2 does not loop it');
      await ctx.pm2.stop(ctx.appName).catch((error: unknown) => log.error({ err: error }, 'PM2 stop failed'));
      return;
  }
}

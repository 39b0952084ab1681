import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadConfig, type LifeguardConfig } from '../config/load.js';
import { readGatewayConfig } from '../config/gateway-config.js';
import { loadGatewayEnv } from '../config/gateway-env.js';
import { resolveInstances } from '../config/resolve-instances.js';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import { createLogger, redactText } from '../core/log.js';
import { errorMessage } from '../core/errors.js';
import { withRepairLock } from '../actions/repair-lock.js';
import { killTree } from '../actions/kill-tree.js';
import { connectPm2, type Pm2Client, type Pm2ExitDetail, type Pm2LogEvent, type Pm2ProcessEvent } from '../actions/pm2.js';
import { resumeSnapshot } from '../detector/machine.js';
import type { DetectorEffect, DetectorSettings } from '../detector/types.js';
import { activePause, pausesPath, readPauses, type Pauses } from '../incidents/pauses.js';
import type { EngineSettings, World } from '../incidents/types.js';
import { gatewayAccessOf } from '../launch/gateway-access.js';
import { Dispatcher } from '../notify/dispatcher.js';
import { Outbox } from '../notify/outbox.js';
import { resolveProviders } from '../notify/registry.js';
import { runProbeCycle } from '../probes/cycle.js';
import { GatewaySession } from '../probes/gateway-ws.js';
import { resolveGatewayRuntime } from '../runtime/resolve.js';
import { factsFromNewestSnapshot } from '../snapshots/facts.js';
import { diffAgainstNewestSnapshot } from '../snapshots/compare.js';
import { archiveBrief, handOff } from '../handoff/handoff.js';
import { installSkill } from '../handoff/skill.js';
import { installPlugin } from '../handoff/plugin.js';
import { grantLease, leaseHeld } from '../incidents/ladder.js';
import { createJournal } from '../surfaces/journal.js';
import { formatDuration } from '../core/duration.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { startConfigGuard } from './config-guard.js';
import { startConfigReloader } from './config-reload.js';
import { IncidentDesk } from './incident-desk.js';
import { InstanceWatcher } from './instance-watcher.js';
import { scheduleJobs } from './jobs.js';
import { OperatorActionTracker } from './pm2-events.js';
import { carryOutRepair } from './repair-actions.js';
import { readStatus, writeStatus, type DaemonStatus } from './status-store.js';
import { startToolSurfaces } from './tool-surfaces.js';
import { runDeepCheck, sendDigest } from './daily.js';
import { ownerCommand } from '../core/command-line.js';

const ERROR_TAIL_LINES = 40;
const RECONCILE_EVERY_MS = 15_000;
/** Incidents, holds, pauses and snapshots are looked at this often (reminders, deadlines, CLI acks). */
const TICK_MS = 2_000;
const STATUS_URGENT_MS = 100;
const STATUS_ROUTINE_MS = 5_000;
/** PM2 statuses on the way to `online` (between crash restarts, `waiting restart` lasts the backoff). */
const TRANSITIONAL_STATUSES = new Set(['launching', 'waiting restart', 'stopping']);
const ALIVE_STATUSES = new Set(['online', 'launching', 'waiting restart']);
/** Settled deliveries stay in the outbox this long (their results live on in the incidents). */
const OUTBOX_KEEP_MS = 7 * 86_400_000;
const OUTBOX_PRUNE_TICKS = 1_800;
/** How long a stopped rescue gets to come up before a handoff gives up on it. */
const RESCUE_START_MS = 90_000;

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

export function engineSettings(config: LifeguardConfig): EngineSettings {
  return {
    reminderIntervalMs: config.alerts.reminderIntervalMs,
    resolveAfterMs: config.alerts.resolveAfterMs,
    maxActionsPerHour: config.escalation.maxActionsPerHour,
    restartAttempts: config.escalation.restartAttempts,
    restartDeadlineMs: config.escalation.restartDeadlineMs,
    restoreAttempts: config.escalation.restoreAttempts,
    restoreDeadlineMs: config.escalation.restoreDeadlineMs,
    handoffAvailable: config.handoff.enabled,
    leaseMs: config.handoff.leaseMs,
    ackDeadlineMs: config.handoff.ackDeadlineMs,
  };
}

/**
 * Where R2 takes a good config from. lifeguard's own snapshot first: it is the user's file byte for byte
 * and is back in milliseconds. OpenClaw's own last-known-good (restored by `doctor --fix`) only when
 * lifeguard has none: doctor takes 10-20 s, needs the Gateway stopped, and rewrites the file as plain JSON
 * with its own additions; and it only repairs an invalid config, not a valid one that crash-loops.
 */
export function restoreSourceFor(hasSnapshot: boolean, gatewayCopyUsable: boolean): 'gateway' | 'snapshot' | undefined {
  if (hasSnapshot) return 'snapshot';
  return gatewayCopyUsable ? 'gateway' : undefined;
}

/** The long-running supervisor that PM2 runs as the `lifeguard` app. */
export async function runSupervisor(env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  let config = await loadConfig({ env, cwd });
  const log = createLogger({ level: config.logLevel });
  const host = hostname();
  const runtime = await resolveGatewayRuntime(config, { env, provision: false, progress: (line) => log.info(line) });
  // A config with a syntax error must not stop the supervisor: the Gateway still runs on the one it loaded.
  let instances = await resolveInstances(config, runtime.flavour, async (name, error) => {
    log.warn({ instance: name, error }, 'Gateway config unreadable; using the facts of its newest snapshot');
    return factsFromNewestSnapshot(config, runtime.flavour, name);
  });
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
  const homes = { runtime, userHome: config.userHome, lifeguardHome: config.home };
  const lifeguardCli = `${process.execPath} ${fileURLToPath(new URL('../cli.js', import.meta.url))}`;

  const { providers, problems } = resolveProviders(config.notify);
  for (const problem of problems) log.error({ problem }, 'notification provider skipped');
  if (providers.length === 0) log.warn('no notification providers configured: incidents are recorded but nobody is told');
  const outbox = new Outbox(config.home);
  let desk: IncidentDesk | undefined;
  const dispatcher = new Dispatcher({
    outbox, providers, settings: config.alerts, log, env, now: Date.now,
    rescueGateway: () => gatewayAccessOf(instances.rescue, homes),
    onUpdate: (delivery) => {
      if (delivery.attempts > 0) surfaces.metrics.countDelivery(delivery.provider, delivery.status === 'pending' ? 'retried' : delivery.status);
      void desk?.recordDelivery(delivery);
    },
  });

  let pauses: Pauses = await readPauses(config.home);
  let pausesMtime = 0;
  const refreshPauses = async () => {
    const mtime = await stat(pausesPath(config.home)).then((s) => s.mtimeMs, () => 0);
    if (mtime === pausesMtime) return;
    pausesMtime = mtime;
    pauses = await readPauses(config.home);
  };

  const currentStatus = (): DaemonStatus => ({
    pid: process.pid, startedAt, updatedAt: Date.now(),
    instances: watchers.map((w) => {
      const incident = desk?.current(w.instance.name);
      const verdict = w.instance.name === 'main' ? guard.verdict() : undefined;
      return {
        ...w.status(),
        ...(incident ? { incident: { id: incident.id, rung: incident.rung, frozen: incident.frozen, problem: incident.problem, summary: incident.summary } } : {}),
        ...(activePause(pauses, w.instance.name, Date.now()) ? { pausedUntil: pauses[w.instance.name]!.until } : {}),
        ...(verdict ? { config: { valid: verdict.valid, detail: verdict.detail, at: verdict.at } } : {}),
      };
    }),
    ...(reloader ? { configFile: reloader.status() } : {}),
    alertProviders: dispatcher.providerNames,
  });
  const saveStatus = () => writeStatus(config.home, currentStatus());
  const surfaces = await startToolSurfaces({ config, log, pm2, host, currentStatus, alert: (alert) => dispatcher.enqueue(alert) });
  const { metrics } = surfaces;

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
  const lastProbeNote = new Map<string, string>();
  const watchers = INSTANCE_NAMES.map((name) => {
    let configMtime = 0;
    // The token may be rotated while lifeguard runs; redaction always uses the current one.
    const secrets = () => (instances[name].token ? [instances[name].token!] : []);
    secretsByApp.set(instances[name].appName, secrets);
    const refreshToken = async () => {
      const instance = instances[name];
      const mtime = await stat(instance.configPath).then((s) => s.mtimeMs, () => 0);
      if (mtime === configMtime) return;
      configMtime = mtime;
      const read = await readGatewayConfig(instance.configPath, await loadGatewayEnv(instance.stateDir, instance.extraEnv));
      if (read.ok && read.facts.token !== instance.token) instances = { ...instances, [name]: { ...instance, token: read.facts.token } };
    };
    const session = new GatewaySession(`ws://127.0.0.1:${instances[name].port}`, LIFEGUARD_VERSION);
    sessions.push(session);
    const execute = async (effect: DetectorEffect) => {
      if (effect.type === 'stop') operatorActions.expectStop(instances[name].appName);
      if (effect.type === 'restart') {
        desk?.countAction(Date.now());
        metrics.countRestart(name);
      }
      if (effect.type === 'transition') metrics.setState(name, effect.to);
      await executeEffect(effect, { name, appName: instances[name].appName, pm2, log, journal, secrets });
      if (effect.type === 'transition') {
        void desk?.note(name, 'state', `${effect.from} → ${effect.to}: ${redactText(effect.reason, secrets())}`);
        void desk?.observe(name, { state: effect.to, classification: effect.classification, reason: effect.reason });
      }
    };
    const saved = previous?.instances.find((i) => i.instance === name)?.detector;
    return new InstanceWatcher(instances[name], resumeSnapshot(saved, Date.now(), settings), {
      settings,
      log,
      now: Date.now,
      intervalMs: config.probes.intervalMs,
      retryIntervalMs: config.probes.retryIntervalMs,
      onChange: scheduleStatus,
      execute,
      processStatus: async () => {
        const app = await pm2.describe(instances[name].appName).catch(() => null);
        if (app === null) return undefined;
        const status = app?.status ?? 'not registered in PM2';
        if (status === 'stopping') operatorActions.noteHeld(instances[name].appName);
        return status;
      },
      probe: async () => {
        await refreshToken();
        const result = await runProbeCycle(instances[name], session, config.probes.timeoutMs);
        metrics.observeProbe(name, result.latencyMs / 1000, result.live);
        // Failed probes belong in the incident's story; the same failure over and over only once.
        const note = result.live ? '' : result.detail;
        if (note && note !== lastProbeNote.get(name)) void desk?.note(name, 'probe', `probe failed: ${note}`);
        lastProbeNote.set(name, note);
        return result;
      },
    });
  });
  const watcherOf = (name: InstanceName) => watchers.find((w) => w.instance.name === name)!;
  const watcherFor = (appName: string) => watchers.find((w) => w.instance.appName === appName);

  const world = async (name: string, health?: World['health']): Promise<World> => {
    const instance = name as InstanceName;
    const at = Date.now();
    const s = { ...watcherOf(instance).state, ...health };
    const other = watchers.find((w) => w.instance.name !== instance)!.state;
    let processAlive = true;
    if (s.state === 'down') {
      const app = await pm2.describe(instances[instance].appName).catch(() => null);
      processAlive = app === null || ALIVE_STATUSES.has(app?.status ?? '');
    }
    const verdict = instance === 'main' ? guard.verdict() : undefined;
    const newest = instance === 'main' ? guard.newestSnapshot() : undefined;
    return {
      at,
      instance,
      health: { state: s.state, classification: s.classification, reason: s.reason },
      processAlive,
      config: verdict ? { valid: verdict.valid, detail: verdict.detail } : undefined,
      configDiffersFromSnapshot: verdict?.hash !== undefined && newest !== undefined && verdict.hash !== newest.hash,
      restoreSource: instance === 'main' ? restoreSourceFor(newest !== undefined, verdict?.valid === false && guard.gatewayRecoveryAvailable()) : undefined,
      // A stopped rescue can be started for the handoff; one that is down for any other reason cannot help.
      rescueUsable: instance === 'main' && (other.state === 'healthy' || other.state === 'degraded' || (other.state === 'down' && other.classification === 'stopped')),
      peerDown: other.state === 'down' && other.classification !== 'stopped',
      pausedUntil: activePause(pauses, instance, at)?.until,
      actionsLastHour: desk?.actionsLastHour(at) ?? 0,
    };
  };

  desk = new IncidentDesk({
    home: config.home, host, settings: engineSettings(config), log, now: Date.now,
    enqueue: (alert) => dispatcher.enqueue(alert),
    configPathOf: (name) => instances[name as InstanceName].configPath,
    world,
    act: async (name, action, record) => {
      const instance = instances[name as InstanceName];
      if (action === 'handoff') {
        return handOff({
          // The brief states the lease the desk grants once the handoff succeeds.
          record: { ...record, ...grantLease(record, Date.now(), config.handoff) }, main: instances.main, rescue: instances.rescue, cli: lifeguardCli, wakeAgent: config.handoff.wakeAgent,
          timeoutMs: Math.max(config.probes.timeoutMs, 10_000), config: guard.verdict(), diff: await diffAgainstNewestSnapshot(config.home, 'main', instances.main.configPath),
          ensureRescue,
        });
      }
      const source = (await world(name)).restoreSource;
      // The same lock as the repair commands: lifeguard and the rescue (or a person) never repair at once.
      const outcome = await withRepairLock(config.home, { timeoutMs: config.repair.lockTimeoutMs, who: 'lifeguard', what: `${action} of ${name} (${record.rung})`, expectedMs: 60_000 }, () =>
        carryOutRepair(action, instance, source, { home: config.home, pm2, operatorActions, log, now: Date.now, recoverWithGateway: () => guard.recover() }),
      ).catch((error: unknown) => ({ ok: false, detail: errorMessage(error) }));
      // The next steps must judge the restored file, not the verdict on the one it replaced.
      if (action === 'restore') await guard.check();
      if (outcome.ok) metrics.countRestart(name as InstanceName);
      return outcome;
    },
    onResolved: async (record) => {
      if (record.attempts.R3 === 0) return;
      const archived = await archiveBrief(instances.rescue.workspace, record.id);
      if (archived) log.info({ incident: record.id, archived }, 'incident brief archived');
    },
  });
  await desk.load(INSTANCE_NAMES);
  // The detector's kills of the last hour count against the global budget across a supervisor restart.
  for (const watcher of watchers) for (const at of watcher.state.restarts) desk.countAction(at);
  const skill = await installSkill(instances.rescue.workspace, config.home).catch((error: unknown) => ({ state: 'failed', path: String(error) }));
  log[skill.state === 'kept-user-edit' || skill.state === 'failed' ? 'warn' : 'info']({ skill: skill.state, path: skill.path }, 'rescue skill');
  const plugin = await installPlugin(instances.rescue, runtime, { userHome: config.userHome, lifeguardHome: config.home });
  log[plugin.state === 'current' ? 'info' : 'warn']({ plugin: plugin.state, detail: plugin.detail }, 'rescue /lifeguard plugin');

  /** The rescue must be up to take the main: started through PM2 if it is stopped, then given time to answer. */
  async function ensureRescue(): Promise<{ ok: boolean; detail: string }> {
    const usable = () => ['healthy', 'degraded'].includes(watcherOf('rescue').state.state);
    if (usable()) return { ok: true, detail: 'up' };
    const app = await pm2.describe(instances.rescue.appName).catch(() => null);
    if (app?.status !== 'online') {
      operatorActions.noteHeld(instances.rescue.appName);
      await pm2.restart(instances.rescue.appName).catch((error: unknown) => log.warn({ err: error }, 'cannot start the rescue'));
    }
    const deadline = Date.now() + RESCUE_START_MS;
    while (Date.now() < deadline) {
      if (usable()) return { ok: true, detail: 'started' };
      await sleep(1_000);
    }
    return { ok: false, detail: `not healthy ${RESCUE_START_MS / 1000} s after starting it (${watcherOf('rescue').state.reason})` };
  }

  /** Why automated restarts of an instance are held back now, if they are. */
  const holdOf = (name: InstanceName): string | undefined => {
    const at = Date.now();
    const pause = activePause(pauses, name, at);
    if (pause) return `paused by ${pause.by} until ${new Date(pause.until).toISOString()}`;
    const incident = desk?.current(name);
    if (leaseHeld(incident, at)) return `the rescue bot holds it until ${new Date(incident!.lease!.until).toISOString()} (incident ${incident!.id})`;
    if (incident?.frozen) return `incident ${incident.id} waits for a person (R4): ${ownerCommand(`incident ack ${incident.id}`)}`;
    const verdict = name === 'main' ? guard.verdict() : undefined;
    if (verdict?.valid === false) return `its config is invalid (${verdict.detail}); lifeguard will not restart it into that`;
    if ((desk?.actionsLastHour(at) ?? 0) >= config.escalation.maxActionsPerHour) {
      return `the budget of ${config.escalation.maxActionsPerHour} automated actions per hour is used up`;
    }
    return undefined;
  };
  const updateHolds = async () => {
    for (const watcher of watchers) {
      const reason = holdOf(watcher.instance.name);
      if (reason !== watcher.state.hold) await watcher.dispatch({ type: 'hold', at: Date.now(), reason });
    }
  };

  // Created once everything its verdicts feed exists: the first verdict arrives during start-up.
  let guardStarted = false;
  const guard = await startConfigGuard({
    instance: () => instances.main, homes, settings: config.guard, log,
    onVerdict: (view) => {
      // The first verdict arrives while the guard starts; the steps below run once it exists.
      metrics.setConfigValid('main', view.valid);
      if (!guardStarted) return;
      void desk?.note('main', 'guard', `config ${view.valid === true ? 'valid' : view.valid === false ? 'INVALID' : 'not checked'}: ${view.detail}`);
      void desk?.observe('main');
      void updateHolds();
      scheduleStatus(true);
    },
  });

  guardStarted = true;

  const onLog = (event: Pm2LogEvent) => {
    surfaces.noteBus();
    if (!watcherFor(event.process.name)) return;
    const lines = tails.get(event.process.name) ?? [];
    for (const line of event.data.split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
      lines.push({ stream: event.stream, line: redactText(line, secretsByApp.get(event.process.name)?.() ?? []).slice(0, 500) });
    }
    tails.set(event.process.name, lines.slice(-ERROR_TAIL_LINES));
  };
  const onProcess = (event: Pm2ProcessEvent) => {
    surfaces.noteBus();
    const watcher = watcherFor(event.process.name);
    if (!watcher) return;
    const name = watcher.instance.name;
    if (event.event === 'exit') {
      const manual = operatorActions.exitWasRequested(event.process.name, event.process.status);
      const pid = pids.get(event.process.name);
      const detail = exitDetails.get(event.process.name);
      const tail = tails.get(event.process.name) ?? [];
      pids.set(event.process.name, undefined);
      exitDetails.delete(event.process.name);
      tails.set(event.process.name, []);
      const code = detail?.signal ? null : detail?.code ?? event.process.exit_code ?? null;
      const signal = detail?.signal ?? null;
      const errorOutput = tail.filter((t) => t.stream === 'err').map((t) => t.line);
      void desk?.note(name, 'pm2', `exit of pid ${pid ?? '?'}: ${signal ? `signal ${signal}` : `code ${code ?? '?'}`}${manual ? ' (requested)' : ''}`);
      void desk?.setEvidence(name, { errorOutput, logTail: tail.map((t) => t.line) });
      void watcher.dispatch({ type: 'exit', at: event.at, pid, manual, code, signal, output: tail.map((t) => t.line), errorOutput });
    } else if (event.event === 'online') {
      const manual = operatorActions.onlineWasRequested(event.process.name);
      void pm2.describe(event.process.name).then((app) => {
        if (app?.pid === undefined) return;
        pids.set(event.process.name, app.pid);
        void desk?.note(name, 'pm2', `online, pid ${app.pid}${manual ? ' (requested start)' : ''}`);
        return watcher.dispatch({ type: 'online', at: event.at, pid: app.pid, manual });
      }).catch((error: unknown) => log.warn({ err: error }, 'describe after online failed'));
    } else if (event.event === 'restart overlimit') {
      operatorActions.noteHeld(event.process.name);
      void desk?.note(name, 'pm2', 'PM2 gave up restarting it (restart overlimit)');
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

  /** Snapshots the main's config as soon as it is healthy on a config that validates; proven once it stayed healthy long enough. */
  const snapshotIfGood = async (reason: string, healthyForMs: number) => {
    const main = watcherOf('main').state;
    const verdict = guard.verdict();
    if (main.state !== 'healthy' || verdict?.valid !== true) return;
    const proven = Date.now() - main.since >= healthyForMs;
    await guard.snapshot(proven ? reason : 'started fine on a valid config', config.snapshots.keep, proven ? 'proven' : 'started');
  };

  let ticks = 0;
  const countedIncidents = new Map<string, string | undefined>(INSTANCE_NAMES.map((name) => [name, desk?.current(name)?.id]));
  const tick = async () => {
    ticks += 1;
    await refreshPauses();
    await updateHolds();
    for (const name of INSTANCE_NAMES) {
      await desk?.observe(name);
      const open = desk?.current(name);
      if (open && open.id !== countedIncidents.get(name)) metrics.countIncident(name);
      countedIncidents.set(name, open?.id);
      metrics.setIncidentOpen(name, open !== undefined);
    }
    await snapshotIfGood(`healthy for ${formatDuration(config.snapshots.healthyForMs)} on a valid config`, config.snapshots.healthyForMs);
    if (ticks % OUTBOX_PRUNE_TICKS === 0) await outbox.prune(OUTBOX_KEEP_MS, Date.now());
    // Alerts a CLI command queued (a resolve) go out from here.
    if (ticks % 3 === 0) await dispatcher.resume();
    scheduleStatus(false);
  };

  await pm2.subscribe({ onProcess, onLog, onExitDetail: (detail) => exitDetails.set(detail.name, detail) });
  await reconcile();
  await updateHolds();
  for (const watcher of watchers) watcher.start();
  await dispatcher.resume();
  const reconcileTimer = setInterval(() => void reconcile(), RECONCILE_EVERY_MS);
  const tickTimer = setInterval(() => void tick().catch((error: unknown) => log.error({ err: error }, 'tick failed')), TICK_MS);
  const jobs = scheduleJobs([
    { name: 'snapshot', cron: config.snapshots.schedule, run: () => snapshotIfGood('scheduled', 0) },
    { name: 'digest', cron: config.jobs.digest, run: () => sendDigest({ home: config.home, host, dispatcher, now: Date.now() }) },
    {
      name: 'deep-check', cron: config.jobs.deepCheck,
      run: () => runDeepCheck(INSTANCE_NAMES.map((name) => ({ instance: name, url: `ws://127.0.0.1:${instances[name].port}`, token: instances[name].token })), {
        timeoutMs: Math.max(config.probes.timeoutMs, 10_000), note: (name, text) => desk?.note(name, 'probe', text), log,
      }),
    },
  ], log);
  // Edits of the config file in effect: live sections applied within seconds, the rest reported as pending.
  const reloader = config.source === undefined ? undefined : startConfigReloader({
    file: config.source, running: () => config, load: () => loadConfig({ env, cwd }), log, host, now: Date.now, alert: (alert) => dispatcher.enqueue(alert),
    apply: (next) => {
      config = next;
      dispatcher.setProviders(resolveProviders(next.notify).providers);
      for (const w of watchers) w.reconfigure({ settings: detectorSettings(next), intervalMs: next.probes.intervalMs, retryIntervalMs: next.probes.retryIntervalMs });
    },
  });
  log.info({ flavour: runtime.flavour, providers: providers.map((p) => p.name), instances: watchers.map((w) => ({ name: w.instance.name, port: w.instance.port })) }, 'lifeguard supervising');

  const shutdown = (signal: string) => {
    log.info({ signal }, 'lifeguard stopping');
    clearInterval(reconcileTimer);
    clearInterval(tickTimer);
    jobs.stop();
    reloader?.stop();
    guard.stop();
    dispatcher.close();
    void surfaces.stop();
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

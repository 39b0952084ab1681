import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { loadConfig } from '../config/load.js';
import { readGatewayConfig } from '../config/gateway-config.js';
import { loadGatewayEnv } from '../config/gateway-env.js';
import { resolveInstances } from '../config/resolve-instances.js';
import { INSTANCE_NAMES, type InstanceName } from '../config/schema.js';
import { steadyClock } from '../core/clock.js';
import { createLogger } from '../core/log.js';
import { redactText } from '../secrets/redact.js';
import { trackSecrets } from '../secrets/sources.js';
import { errorMessage } from '../core/errors.js';
import { readRepairLockHolder, withRepairLock } from '../actions/repair-lock.js';
import { connectPm2 } from '../actions/pm2.js';
import { resumeSnapshot } from '../detector/machine.js';
import type { DetectorEffect } from '../detector/types.js';
import { killRunningGatewayClis } from '../guard/gateway-cli.js';
import { failureFactsReader } from '../host/failure-facts.js';
import { activePause, pausesPath, readPauses, type Pauses } from '../incidents/pauses.js';
import type { World } from '../incidents/types.js';
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
import { startChannelWatch } from './channel-watch.js';
import { grantLease } from '../incidents/ladder.js';
import { createJournal } from '../surfaces/journal.js';
import { formatDuration } from '../core/duration.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { startConfigGuard, type GuardView } from './config-guard.js';
import { startConfigReloader } from './config-reload.js';
import { executeEffect } from './effects.js';
import { IncidentDesk } from './incident-desk.js';
import { InstanceWatcher } from './instance-watcher.js';
import { scheduleJobs } from './jobs.js';
import { Pm2Bridge, type Pm2Seen } from './pm2-bridge.js';
import { housekeepingJob } from '../housekeeping/job.js';
import { OperatorActionTracker } from './pm2-events.js';
import { carryOutRepair } from './repair-actions.js';
import { ensureRescue } from './rescue-start.js';
import { holdSupervisorLock } from './single-instance.js';
import { readStatus, writeStatus, type DaemonStatus } from './status-store.js';
import { startToolSurfaces } from './tool-surfaces.js';
import { runDeepCheck, sendDigest } from './daily.js';
import { detectorSettings, engineSettings, holdOf, worldOf, type InstanceFacts, type RepairHolder } from './world.js';

const RECONCILE_EVERY_MS = 15_000;
/** Incidents, holds, pauses and snapshots are looked at this often (reminders, deadlines, CLI acks). */
const TICK_MS = 2_000;
const STATUS_URGENT_MS = 100;
const STATUS_ROUTINE_MS = 5_000;

/**
 * The long-running supervisor that PM2 runs as the `lifeguard` app: the composition root. Decisions live in
 * the detector, the incident engine and `world.ts`; this wires them to PM2, the probes, the files and the
 * providers. Order matters: the one-supervisor lock before anything is touched, the PM2 bus before the slow
 * start-up work (so no exit goes unseen), and the config guard before any surface can ask for status.
 */
export async function runSupervisor(env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  let config = await loadConfig({ env, cwd });
  const clock = steadyClock();
  const now = clock.now;
  const releaseLock = await holdSupervisorLock(config.home, new Date(now()));
  trackSecrets(config);
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
  const startedAt = now();
  const previous = await readStatus(config.home);
  const operatorActions = new OperatorActionTracker();
  const homes = { runtime, userHome: config.userHome, lifeguardHome: config.home };
  const lifeguardCli = `${process.execPath} ${fileURLToPath(new URL('../cli.js', import.meta.url))}`;
  // The token may be rotated while lifeguard runs; redaction always uses the current one.
  const secretsOf = (name: InstanceName) => (instances[name].token ? [instances[name].token!] : []);

  // Filled in as the parts come up; until the desk exists, its work waits in `early`.
  let desk: IncidentDesk | undefined;
  let guard: Awaited<ReturnType<typeof startConfigGuard>> | undefined;
  let repairHolder: RepairHolder | undefined;
  let reloader: ReturnType<typeof startConfigReloader> | undefined;
  const early: Array<(d: IncidentDesk) => Promise<void>> = [];
  const toDesk = (work: (d: IncidentDesk) => Promise<void>) => (desk ? void work(desk) : void early.push(work));

  const { providers, problems } = resolveProviders(config.notify);
  for (const problem of problems) log.error({ problem }, 'notification provider skipped');
  if (providers.length === 0) log.warn('no notification providers configured: incidents are recorded but nobody is told');
  const outbox = new Outbox(config.home);
  const dispatcher = new Dispatcher({
    outbox, providers, settings: config.alerts, log, env, now,
    rescueGateway: () => gatewayAccessOf(instances.rescue, homes),
    onUpdate: (delivery) => {
      if (delivery.attempts > 0) surfaces?.metrics.countDelivery(delivery.provider, delivery.status === 'pending' ? 'retried' : delivery.status);
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

  let surfaces: Awaited<ReturnType<typeof startToolSurfaces>> | undefined;
  const sessions: GatewaySession[] = [];
  const lastProbeNote = new Map<string, string>();
  let bridge: Pm2Bridge | undefined;
  const watchers = INSTANCE_NAMES.map((name) => {
    let configMtime = 0;
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
      // lifeguard's own start is deliberate, like an operator's: the online that follows is not a crash's respawn.
      if (effect.type === 'start') operatorActions.noteHeld(instances[name].appName);
      if (effect.type === 'restart') {
        toDesk((d) => Promise.resolve(d.countAction(now())));
        surfaces?.metrics.countRestart(name);
      }
      await executeEffect(effect, {
        name, appName: instances[name].appName, home: config.home, pm2, log, journal, secrets: () => secretsOf(name), now,
        identityOf: (pid) => bridge!.identityOf(instances[name].appName, pid),
        note: (text) => toDesk((d) => d.note(name, 'note', text)),
      });
      if (effect.type === 'transition') {
        const health: World['health'] = { state: effect.to, classification: effect.classification, reason: effect.reason };
        toDesk((d) => d.note(name, 'state', `${effect.from} → ${effect.to}: ${redactText(effect.reason, secretsOf(name))}`));
        toDesk((d) => d.observe(name, health));
      }
    };
    const saved = previous?.instances.find((i) => i.instance === name)?.detector;
    return new InstanceWatcher(instances[name], resumeSnapshot(saved, now(), settings), {
      settings,
      log,
      now,
      intervalMs: config.probes.intervalMs,
      retryIntervalMs: config.probes.retryIntervalMs,
      probeTimeoutMs: config.probes.timeoutMs,
      onChange: (urgent) => scheduleStatus(urgent),
      execute,
      processStatus: async () => {
        const app = await pm2.describe(instances[name].appName).catch(() => null);
        if (app === null) return undefined;
        const status = app?.status ?? 'not registered in PM2';
        if (status === 'stopping') operatorActions.noteHeld(instances[name].appName);
        return status;
      },
      failureFacts: failureFactsReader(config.probes.busyPressurePercent, now),
      probe: async (timeoutMs) => {
        await refreshToken();
        const result = await runProbeCycle(instances[name], session, timeoutMs, now);
        surfaces?.metrics.observeProbe(name, result.latencyMs / 1000, result.live);
        // Failed probes belong in the incident's story; the same failure over and over only once.
        const note = result.live ? '' : result.detail;
        if (note && note !== lastProbeNote.get(name)) toDesk((d) => d.note(name, 'probe', `probe failed: ${note}`));
        lastProbeNote.set(name, note);
        return result;
      },
    });
  });
  const watcherOf = (name: InstanceName) => watchers.find((w) => w.instance.name === name)!;
  const nameOfApp = (appName: string) => watchers.find((w) => w.instance.appName === appName)?.instance.name;

  // The bus first: an exit during the slow start-up work below (guard, plugin install) is seen and acted on.
  const seenBefore = new Map<string, Pm2Seen>();
  for (const saved of previous?.instances ?? []) if (saved.pm2) seenBefore.set(saved.appName, saved.pm2);
  bridge = new Pm2Bridge(watchers.map((w) => ({
    appName: w.instance.appName,
    dispatch: (event) => w.dispatch(event),
    secrets: () => secretsOf(w.instance.name),
  })), {
    pm2, log, now, operatorActions,
    note: (appName, text) => { const name = nameOfApp(appName); if (name) toDesk((d) => d.note(name, 'pm2', text)); },
    setEvidence: (appName, evidence) => { const name = nameOfApp(appName); if (name) toDesk((d) => d.setEvidence(name, evidence)); },
    heardFromPm2: () => surfaces?.noteBus(),
  }, seenBefore);
  await pm2.subscribe({
    onProcess: (event) => bridge!.onProcess(event),
    onLog: (event) => bridge!.onLog(event),
    onExitDetail: (detail) => bridge!.onExitDetail(detail),
  });
  await bridge.reconcile();

  const currentStatus = (): DaemonStatus => ({
    pid: process.pid, startedAt, updatedAt: now(),
    instances: watchers.map((w) => {
      const incident = desk?.current(w.instance.name);
      const verdict = w.instance.name === 'main' ? guard?.verdict() : undefined;
      const seen = bridge?.seenOf(w.instance.appName);
      return {
        ...w.status(),
        ...(incident ? { incident: { id: incident.id, rung: incident.rung, frozen: incident.frozen, problem: incident.problem, summary: incident.summary } } : {}),
        ...(activePause(pauses, w.instance.name, now()) ? { pausedUntil: pauses[w.instance.name]!.until } : {}),
        ...(verdict ? { config: { valid: verdict.valid, detail: verdict.detail, at: verdict.at } } : {}),
        ...(seen ? { pm2: seen } : {}),
      };
    }),
    ...(reloader ? { configFile: reloader.status() } : {}),
    alertProviders: dispatcher.providerNames,
  });
  // Routine probe results are written every few seconds; a state change within a moment.
  let statusTimer: NodeJS.Timeout | undefined;
  let statusDue = 0;
  function scheduleStatus(urgent: boolean): void {
    const due = now() + (urgent ? STATUS_URGENT_MS : STATUS_ROUTINE_MS);
    if (statusTimer && due >= statusDue) return;
    if (statusTimer) clearTimeout(statusTimer);
    statusDue = due;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      writeStatus(config.home, currentStatus()).catch((error: unknown) => log.error({ err: error }, 'cannot write status'));
    }, Math.max(0, due - now()));
  }

  const factsOf = async (name: InstanceName, health?: World['health']): Promise<InstanceFacts> => {
    const at = now();
    const self = watcherOf(name).state;
    const down = (health?.state ?? self.state) === 'down';
    const pm2Status = down ? await pm2.describe(instances[name].appName).then((app) => app?.status ?? 'not registered in PM2', () => null) : undefined;
    const verdict = name === 'main' ? guard?.verdict() : undefined;
    const pause = activePause(pauses, name, at);
    return {
      at, instance: name, self, other: watchers.find((w) => w.instance.name !== name)!.state, health, pm2Status,
      verdict, newestSnapshotHash: name === 'main' ? guard?.newestSnapshot()?.hash : undefined,
      gatewayRecoveryAvailable: guard?.gatewayRecoveryAvailable() ?? false,
      pausedUntil: pause?.until, pausedBy: pause?.by, incident: desk?.current(name),
      actionsLastHour: desk?.actionsLastHour(at) ?? 0, maxActionsPerHour: config.escalation.maxActionsPerHour,
      repairHolder,
    };
  };
  const updateHolds = async () => {
    for (const watcher of watchers) {
      const reason = holdOf(await factsOf(watcher.instance.name));
      if (reason !== watcher.state.hold) await watcher.dispatch({ type: 'hold', at: now(), reason });
    }
  };

  const onVerdict = (view: GuardView) => {
    if (!desk) return;
    void desk.note('main', 'guard', `config ${view.valid === true ? 'valid' : view.valid === false ? 'INVALID' : 'not checked'}: ${view.detail}`);
    void desk.observe('main');
    void updateHolds();
    scheduleStatus(true);
  };
  guard = await startConfigGuard({ instance: () => instances.main, homes, settings: config.guard, log, onVerdict });

  desk = new IncidentDesk({
    home: config.home, host, settings: engineSettings(config), log, now,
    enqueue: (alert) => dispatcher.enqueue(alert),
    configPathOf: (name) => instances[name as InstanceName].configPath,
    world: async (name, health) => worldOf(await factsOf(name as InstanceName, health)),
    act: async (name, action, record) => {
      const instance = instances[name as InstanceName];
      if (action === 'handoff') {
        return handOff({
          // The brief states the lease the desk grants once the handoff succeeds.
          record: { ...record, ...grantLease(record, now(), config.handoff) }, main: instances.main, rescue: instances.rescue, cli: lifeguardCli, wakeAgent: config.handoff.wakeAgent,
          timeoutMs: Math.max(config.probes.timeoutMs, 10_000), config: guard!.verdict(), diff: await diffAgainstNewestSnapshot(config.home, 'main', instances.main.configPath),
          ensureRescue: () => ensureRescue({
            pm2, appName: instances.rescue.appName, state: () => watcherOf('rescue').state, now, sleep: (ms) => sleep(ms),
            noteRequested: () => operatorActions.noteHeld(instances.rescue.appName),
            warn: (error) => log.warn({ err: error }, 'cannot start the rescue'),
          }),
        });
      }
      const source = worldOf(await factsOf(name as InstanceName)).restoreSource;
      // The same lock as the repair commands: lifeguard and the rescue (or a person) never repair at once.
      const outcome = await withRepairLock(config.home, { timeoutMs: config.repair.lockTimeoutMs, who: 'lifeguard', what: `${action} of ${name} (${record.rung})`, expectedMs: 60_000 }, () =>
        carryOutRepair(action, instance, source, { home: config.home, pm2, operatorActions, log, now, recoverWithGateway: () => guard!.recover() }),
      ).catch((error: unknown) => ({ ok: false, detail: errorMessage(error) }));
      // The next steps must judge the restored file, not the verdict on the one it replaced.
      if (action === 'restore') await guard!.check();
      if (outcome.ok) surfaces?.metrics.countRestart(name as InstanceName);
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
  for (const work of early.splice(0)) await work(desk);

  surfaces = await startToolSurfaces({ config, log, pm2, host, runtime, providers: providers.map((p) => p.name), currentStatus, alert: (alert) => dispatcher.enqueue(alert) });
  const { metrics } = surfaces;
  const skill = await installSkill(instances.rescue.workspace, config.home).catch((error: unknown) => ({ state: 'failed', path: String(error) }));
  log[skill.state === 'kept-user-edit' || skill.state === 'failed' ? 'warn' : 'info']({ skill: skill.state, path: skill.path }, 'rescue skill');
  const plugin = await installPlugin(instances.rescue, runtime, { userHome: config.userHome, lifeguardHome: config.home });
  log[plugin.state === 'current' ? 'info' : 'warn']({ plugin: plugin.state, detail: plugin.detail }, 'rescue /lifeguard plugin');

  /** Someone other than lifeguard repairs (a person's restart, the rescue agent's restore): lifeguard holds back. */
  const refreshRepairHolder = async () => {
    const holder = await readRepairLockHolder(config.home);
    repairHolder = holder && holder.who !== 'lifeguard' ? { who: holder.who, what: holder.what } : undefined;
  };

  /** Snapshots the main's config as soon as it is healthy on a config that validates; proven once it stayed healthy long enough. */
  const snapshotIfGood = async (reason: string, healthyForMs: number) => {
    const main = watcherOf('main').state;
    const verdict = guard!.verdict();
    if (main.state !== 'healthy' || verdict?.valid !== true) return;
    const proven = now() - main.since >= healthyForMs;
    await guard!.snapshot(proven ? reason : 'started fine on a valid config', config.snapshots.keep, proven ? 'proven' : 'started');
  };

  let ticks = 0;
  const countedIncidents = new Map<string, string | undefined>(INSTANCE_NAMES.map((name) => [name, desk?.current(name)?.id]));
  const tick = async () => {
    ticks += 1;
    await refreshPauses();
    await refreshRepairHolder();
    await updateHolds();
    for (const name of INSTANCE_NAMES) {
      await desk!.observe(name);
      const open = desk!.current(name);
      if (open && open.id !== countedIncidents.get(name)) metrics.countIncident(name);
      countedIncidents.set(name, open?.id);
    }
    await snapshotIfGood(`healthy for ${formatDuration(config.snapshots.healthyForMs)} on a valid config`, config.snapshots.healthyForMs);
    // Alerts a CLI command queued (a resolve) go out from here.
    if (ticks % 3 === 0) await dispatcher.resume();
    scheduleStatus(false);
  };

  await refreshRepairHolder();
  await updateHolds();
  for (const watcher of watchers) watcher.start();
  const channelWatch = startChannelWatch({ instances: () => instances, home: config.home, host, log, enqueue: (alert) => dispatcher.enqueue(alert), now: Date.now });
  await dispatcher.resume();
  const reconcileTimer = setInterval(() => void bridge!.reconcile(), RECONCILE_EVERY_MS);
  const tickTimer = setInterval(() => void tick().catch((error: unknown) => log.error({ err: error }, 'tick failed')), TICK_MS);
  const jobs = scheduleJobs([
    { name: 'snapshot', cron: config.snapshots.schedule, run: () => snapshotIfGood('scheduled', 0) },
    { name: 'digest', cron: config.jobs.digest, run: () => sendDigest({ home: config.home, host, dispatcher, now: now() }) },
    housekeepingJob(config, pm2, log),
    {
      name: 'deep-check', cron: config.jobs.deepCheck,
      run: () => runDeepCheck(INSTANCE_NAMES.map((name) => ({ instance: name, url: `ws://127.0.0.1:${instances[name].port}`, token: instances[name].token })), {
        timeoutMs: Math.max(config.probes.timeoutMs, 10_000), note: (name, text) => desk?.note(name, 'probe', text), log,
      }),
    },
  ], log);
  // Edits of the config file in effect: live sections applied within seconds, the rest reported as pending.
  reloader = config.source === undefined ? undefined : startConfigReloader({
    file: config.source, running: () => config, load: () => loadConfig({ env, cwd }), log, host, now, alert: (alert) => dispatcher.enqueue(alert),
    apply: (next) => {
      config = next;
      trackSecrets(next);
      dispatcher.setProviders(resolveProviders(next.notify).providers);
      for (const w of watchers) w.reconfigure({ settings: detectorSettings(next), intervalMs: next.probes.intervalMs, retryIntervalMs: next.probes.retryIntervalMs, probeTimeoutMs: next.probes.timeoutMs });
    },
  });
  log.info({ flavour: runtime.flavour, providers: providers.map((p) => p.name), instances: watchers.map((w) => ({ name: w.instance.name, port: w.instance.port })) }, 'lifeguard supervising');

  const shutdown = (signal: string) => {
    log.info({ signal }, 'lifeguard stopping');
    clearInterval(reconcileTimer);
    clearInterval(tickTimer);
    jobs.stop();
    guard?.stop();
    dispatcher.close();
    void surfaces?.stop();
    for (const watcher of watchers) watcher.stop();
    channelWatch.stop();
    reloader?.stop();
    for (const session of sessions) session.close();
    void killRunningGatewayClis()
      .then(() => writeStatus(config.home, currentStatus()))
      .finally(() => releaseLock().finally(() => process.exit(0)));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { connectPm2, isPm2DaemonRunning, pm2Home, type AppStatus, type Pm2Client } from '../../actions/pm2.js';
import { withRepairLock } from '../../actions/repair-lock.js';
import { restartApp } from '../../actions/pm2-restart.js';
import type { ResolvedInstance } from '../../config/instance.js';
import type { LifeguardConfig } from '../../config/load.js';
import { resolveInstances } from '../../config/resolve-instances.js';
import type { InstanceName } from '../../config/schema.js';
import { UserError, errorMessage } from '../../core/errors.js';
import { redactText } from '../../core/log.js';
import { probeConfigValidity, readConfigFile, secretsFor, type ConfigVerdict } from '../../guard/validate-config.js';
import { auditIncident } from '../../incidents/audit.js';
import { findOpenIncident } from '../../incidents/store.js';
import { findPortHolders } from '../../isolation/port-holders.js';
import type { PortHolder } from '../../isolation/rules.js';
import { gatewayEnvOf, logFilesOf } from '../../pm2/apps.js';
import { GatewaySession } from '../../probes/gateway-ws.js';
import { runProbeCycle, type ProbeCycleResult } from '../../probes/cycle.js';
import { defaultFlavour, resolveGatewayRuntime, type GatewayRuntime } from '../../runtime/resolve.js';
import { listSnapshots } from '../../snapshots/store.js';
import { factsFromNewestSnapshot } from '../../snapshots/facts.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { describeConfigVerdict, diagnose, mergeLogLines, recentExits, renderDiagnosis, type PortHolderFact } from '../diagnose.js';
import { journalPath, type JournalEntry } from '../journal.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';
import { ownerCommand } from '../../core/command-line.js';

// ---------------------------------------------------------------------------------------------------
// Exit codes, shared by every repair command (and `config validate|restore`).

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, busy: 4, pm2: 5 } as const;

/** The "Exit codes:" block of a command's help: only the codes that command can return. */
export function exitCodesHelp(codes: Partial<Record<keyof typeof EXIT, string>>): string {
  const rows = (Object.keys(EXIT) as Array<keyof typeof EXIT>).filter((key) => codes[key]).map((key) => `  ${EXIT[key]}  ${codes[key]}`);
  return `\nExit codes:\n${rows.join('\n')}\n`;
}

const LOCK_BUSY_HELP = 'busy: another repair (lifeguard\'s own, or another command) held the repair lock past repair.lockTimeoutMs';

/** Commander's own usage errors (a missing argument, an unknown option) are bad usage too: exit 2, not 1. */
// ---------------------------------------------------------------------------------------------------
// The instance a command works on, settled without the supervisor.

export interface RepairTarget {
  readonly settings: LifeguardConfig;
  readonly instance: ResolvedInstance;
  /** Undefined when no Gateway is installed: validation then cannot run, everything else still works. */
  readonly runtime: GatewayRuntime | undefined;
  readonly runtimeProblem: string | undefined;
  /** Values never to print: the Gateway token and secret-named variables of its environment. */
  readonly secrets: readonly string[];
}

/**
 * Settles the instance as the supervisor does. A Gateway config that is not even JSON5 (exactly when a
 * repair is needed) does not stop the command: the token and paths then come from the newest snapshot,
 * which is what the still-running Gateway most likely loaded.
 */
export async function resolveTarget(settings: LifeguardConfig, name: InstanceName): Promise<RepairTarget> {
  let runtimeProblem: string | undefined;
  const runtime = await resolveGatewayRuntime(settings, { env: process.env, provision: false, progress: () => {} })
    .catch((error: unknown) => { runtimeProblem = errorMessage(error); return undefined; });
  const flavour = runtime?.flavour ?? defaultFlavour(settings);
  const instances = await resolveInstances(settings, flavour, (unreadable) => factsFromNewestSnapshot(settings, flavour, unreadable));
  const instance = instances[name];
  const secrets = await secretsFor({ flavour, env: envOf(settings, instance, runtime), configPath: instance.configPath }, undefined, [instance.token]);
  return { settings, instance, runtime, runtimeProblem, secrets };
}

function envOf(settings: LifeguardConfig, instance: ResolvedInstance, runtime: GatewayRuntime | undefined): Record<string, string> {
  return runtime ? gatewayEnvOf(instance, { runtime, userHome: settings.userHome, lifeguardHome: settings.home }) : { ...instance.extraEnv };
}

const endpointOf = (instance: ResolvedInstance) => ({ url: `ws://127.0.0.1:${instance.port}`, token: instance.token });

/** The config guard's validation, run now: JSON5 first, then the running Gateway's `config.get` or its CLI. */
export async function validateTarget(target: RepairTarget): Promise<ConfigVerdict> {
  const { settings, instance, runtime } = target;
  if (!runtime) {
    // Without a Gateway to ask, what the file alone shows is still worth saying.
    const file = await readConfigFile(instance.configPath);
    if (file.state === 'missing') return { valid: false, hash: null, kind: 'missing', issues: [`${instance.configPath} does not exist`], via: 'file' };
    if (file.state === 'syntax') return { valid: false, hash: file.hash, kind: 'syntax', issues: [file.issue], via: 'json5' };
    return { valid: 'unknown', hash: file.state === 'parsed' ? file.hash : null, detail: `cannot run the Gateway's validator: ${target.runtimeProblem ?? 'no Gateway installed'}` };
  }
  return probeConfigValidity({
    configPath: instance.configPath, flavour: instance.flavour, runtime, env: envOf(settings, instance, runtime), gateway: endpointOf(instance),
  }, { timeoutMs: settings.guard.validateTimeoutMs });
}

/** The `config validate --json` document. */
export function configValidationReport(target: RepairTarget, verdict: ConfigVerdict) {
  const base = { instance: target.instance.name, configPath: target.instance.configPath };
  if (verdict.valid === true) return { ...base, valid: true as const, via: verdict.via };
  if (verdict.valid === false) return { ...base, valid: false as const, kind: verdict.kind, issues: [...verdict.issues], via: verdict.via };
  return { ...base, valid: 'unknown' as const, via: null, detail: verdict.detail };
}

export function renderConfigValidation(report: ReturnType<typeof configValidationReport>): string {
  if (report.valid === true) return `${report.instance}: ${report.configPath} is valid (checked by ${report.via}).`;
  if (report.valid === 'unknown') return `${report.instance}: ${report.configPath} could not be checked: ${report.detail}`;
  return [`${report.instance}: ${report.configPath} is INVALID (${report.kind}, found by ${report.via}):`, ...report.issues.map((issue) => `  - ${issue}`),
    `Fix: ${ownerCommand(`config diff ${report.instance}`)}, then ${ownerCommand(`config restore ${report.instance}`)} (or edit the file).`].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// PM2, asked directly: these commands must work while the supervisor is down, and must never start a daemon.

async function openPm2(): Promise<Pm2Client> {
  if (!isPm2DaemonRunning()) {
    throw new UserError(`PM2 is not reachable: no PM2 daemon runs for ${pm2Home()}.\nFix: start everything with: ${ownerCommand('up')}`, EXIT.pm2);
  }
  return connectPm2({ timeoutMs: 10_000 }).catch((error: unknown) => {
    throw new UserError(`PM2 is not reachable: ${errorMessage(error)}`, EXIT.pm2);
  });
}

/** PM2's view of one app for diagnose; never throws. */
async function pm2View(appName: string): Promise<{ reachable: boolean; app: AppStatus | undefined }> {
  if (!isPm2DaemonRunning()) return { reachable: false, app: undefined };
  const pm2 = await connectPm2({ timeoutMs: 5_000 }).catch(() => undefined);
  if (!pm2) return { reachable: false, app: undefined };
  try {
    return { reachable: true, app: await pm2.describe(appName) };
  } catch {
    return { reachable: false, app: undefined };
  } finally {
    pm2.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Log files

/** A one-off probe gets more time than the supervisor's routine one: a cold handshake is slower. */
const ONE_SHOT_PROBE_MS = 3_000;
const MAX_LINE_CHARS = 2_000;
const MAX_LOG_LINES = 5_000;
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The last `count` lines of a file (undefined when it does not exist), reading only its end. */
async function readTailLines(path: string, count: number): Promise<string[] | undefined> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024 + count * 2 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift();
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

export interface LogTail {
  readonly files: Array<{ path: string; stream: 'out' | 'err'; exists: boolean }>;
  readonly lines: string[];
}

/** The Gateway's recent output from its PM2 log files, in time order, secrets masked. */
async function readLogTail(target: RepairTarget, count: number): Promise<LogTail> {
  const paths = logFilesOf(target.settings.home, target.instance.appName);
  const streams = await Promise.all((['out', 'err'] as const).map(async (stream) => ({ stream, path: paths[stream], lines: await readTailLines(paths[stream], count) })));
  const clean = (line: string) => {
    const text = redactText(line.replace(ANSI, '').trimEnd(), target.secrets);
    return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 3)}...` : text;
  };
  return {
    files: streams.map(({ stream, path, lines }) => ({ path, stream, exists: lines !== undefined })),
    lines: mergeLogLines(streams.map((s) => (s.lines ?? []).map(clean)), count),
  };
}

async function readJournal(home: string): Promise<JournalEntry[]> {
  const lines = (await readTailLines(journalPath(home), 2_000).catch(() => undefined)) ?? [];
  const entries: JournalEntry[] = [];
  for (const line of lines) {
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // a line cut by a crash mid-append
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------
// diagnose

async function holderFacts(holder: PortHolder | undefined, secrets: readonly string[]): Promise<PortHolderFact[]> {
  if (!holder || holder.kind === 'free') return [];
  const pid = holder.pid ?? null;
  const command = holder.kind === 'foreign'
    ? holder.command
    : (await readFile(`/proc/${holder.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ').slice(0, 120);
  // Someone else's command line may carry a secret as an argument.
  return [{ pid, command: command ? redactText(command, secrets) : null, instance: holder.kind === 'own' ? holder.instance : null }];
}

async function gatherDiagnosis(target: RepairTarget) {
  const { settings, instance } = target;
  const session = new GatewaySession(endpointOf(instance).url, LIFEGUARD_VERSION);
  const probe = runProbeCycle(instance, session, Math.max(settings.probes.timeoutMs, ONE_SHOT_PROBE_MS)).finally(() => session.close());
  const [probes, verdict, holders, pm2, incident, snapshots, current, journal, logs] = await Promise.all([
    probe,
    validateTarget(target),
    findPortHolders([instance.port]),
    pm2View(instance.appName),
    findOpenIncident(settings.home, instance.name),
    listSnapshots(settings.home, instance.name).catch(() => []),
    readConfigFile(instance.configPath),
    readJournal(settings.home),
    readLogTail(target, 20),
  ]);
  const currentHash = current.state === 'parsed' || current.state === 'syntax' ? current.hash : undefined;
  const app = pm2.app;
  return diagnose({
    instance: instance.name,
    configPath: instance.configPath,
    startupGraceMs: settings.probes.startupGraceMs,
    probes: { live: probes.live, ready: probes.ready, latencyMs: probes.latencyMs, detail: redactText(probes.detail, target.secrets) },
    config: describeConfigVerdict(verdict),
    port: { port: instance.port, holders: await holderFacts(holders.get(instance.port), target.secrets) },
    pm2: {
      reachable: pm2.reachable,
      status: pm2.reachable ? app?.status ?? 'not registered' : null,
      pid: app?.pid ?? null,
      restarts: app?.restarts ?? null,
      uptimeMs: app?.uptimeSince === undefined ? null : Math.max(0, Date.now() - app.uptimeSince),
    },
    recentExits: recentExits(journal, incident?.timeline ?? [], instance.name),
    incident: incident ? { id: incident.id, rung: incident.rung, status: incident.status } : null,
    snapshots: { count: snapshots.length, newest: snapshots[0]?.id ?? null, matchesCurrent: snapshots[0] !== undefined && snapshots[0].hash === currentHash },
    logTail: logs.lines,
  });
}

// ---------------------------------------------------------------------------------------------------
// restart

export type RestartState = 'healthy' | 'degraded' | 'down' | 'not-running' | 'refused' | 'not-waited';

export interface RestartReport {
  readonly instance: string;
  readonly restarted: boolean;
  /** null with --no-wait: not looked at. */
  readonly healthy: boolean | null;
  readonly state: RestartState;
  readonly waitedMs: number;
  readonly detail: string;
}

/** `180s`, `3m`, `90` (seconds) or `500ms`; between 5 s and an hour. */
export function parseWaitTimeout(text: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(text.trim().toLowerCase());
  const ms = match ? Number(match[1]) * ({ ms: 1, s: 1_000, m: 60_000 }[match[2] ?? 's'] ?? 1_000) : Number.NaN;
  if (!(ms >= 5_000 && ms <= 3_600_000)) throw new UserError(`--timeout "${text}" must be a duration between 5s and 60m, like 180s or 3m`, EXIT.usage);
  return ms;
}

/** 1 to 5000. */
export function parseLineCount(text: string): number {
  const lines = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(lines >= 1 && lines <= MAX_LOG_LINES)) throw new UserError(`--lines "${text}" must be a whole number from 1 to ${MAX_LOG_LINES}`, EXIT.usage);
  return lines;
}

/** PM2 restarting it this often by itself while we wait means it cannot start: waiting longer will not help. */
const CRASHES_BEFORE_GIVING_UP = 3;

/**
 * Restarts (or, when PM2 holds it stopped, starts) the app. PM2 marks this start as requested for the
 * supervisor by itself: a running app passes through `stopping`, a stopped one was already held.
 */
async function restartThroughPm2(pm2: Pm2Client, appName: string): Promise<void> {
  try {
    await restartApp(pm2, appName);
  } catch (error) {
    const message = errorMessage(error);
    throw new UserError(`PM2 could not restart ${appName}: ${message}`, /did not answer/.test(message) ? EXIT.pm2 : EXIT.failed);
  }
}

/** Polls PM2 and the Gateway's own probes (not the supervisor's status file: it may be down). */
async function waitForHealth(target: RepairTarget, pm2: Pm2Client, timeoutMs: number): Promise<Omit<RestartReport, 'instance' | 'restarted'>> {
  const { instance, settings } = target;
  const started = Date.now();
  const result = (healthy: boolean, state: RestartState, detail: string) => ({ healthy, state, waitedMs: Date.now() - started, detail: redactText(detail, target.secrets) });
  const logsHint = `see: ${ownerCommand(`logs ${instance.name} --lines 100`)}`;
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

interface RestartOptions {
  readonly force: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  /** When the command was run: a process PM2 started after this already is the restart asked for. */
  readonly askedAt: number;
}

async function restartInstance(target: RepairTarget, options: RestartOptions): Promise<RestartReport> {
  const { instance } = target;
  const base = { instance: instance.name };
  const config = describeConfigVerdict(await validateTarget(target));
  if (config.valid === false && !options.force) {
    return {
      ...base, restarted: false, healthy: false, state: 'refused', waitedMs: 0,
      detail: `refused: the config is invalid (${config.detail}); restarting would take ${instance.name} down until it is fixed. Fix: ${ownerCommand(`config diff ${instance.name}`)}, then ${ownerCommand(`config restore ${instance.name}`)} (or edit ${instance.configPath}); or restart anyway with --force`,
    };
  }
  const pm2 = await openPm2();
  try {
    const before = await pm2.describe(instance.appName).catch((error: unknown) => {
      throw new UserError(`PM2 is not reachable: ${errorMessage(error)}`, EXIT.pm2);
    });
    if (!before) throw new UserError(`${instance.appName} is not registered in PM2.\nFix: start everything with: ${ownerCommand('up')}`, EXIT.failed);
    // A second `restart` that waited for the lock finds the first one's fresh process: once is enough.
    const already = before.status === 'online' && before.uptimeSince !== undefined && before.uptimeSince >= options.askedAt;
    if (!already) await restartThroughPm2(pm2, instance.appName);
    const how = already
      ? `already restarted at ${new Date(before.uptimeSince!).toISOString()} while this command waited; not restarted again`
      : `${before.status === 'online' ? 'restarted' : `started (was ${before.status})`} through PM2${config.valid === false ? ' with --force, into an invalid config' : ''}`;
    if (!options.wait) return { ...base, restarted: !already, healthy: null, state: 'not-waited', waitedMs: 0, detail: `${how}; not waiting for health` };
    const health = await waitForHealth(target, pm2, options.timeoutMs);
    return { ...base, restarted: !already, ...health, detail: `${how}; ${health.detail}` };
  } finally {
    pm2.close();
  }
}

function renderRestart(r: RestartReport): string {
  const head = r.state === 'refused' ? `${r.instance}: NOT restarted` : `${r.instance}: ${r.state.toUpperCase()}`;
  return `${head}\n  ${r.detail}`;
}

// ---------------------------------------------------------------------------------------------------
// Commands

export function registerRepairCommands(program: Command): void {
  program
    .command('diagnose [instance]')
    .description('run every check now (probes, config validation, port, PM2, recent exits, log lines, incident, snapshots) and say what is wrong and how to fix it; works while the supervisor is down')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({ ok: 'healthy', failed: 'any other verdict (degraded, down, config-invalid, port-conflict, not-running, unknown)', usage: 'unknown instance or bad usage' }))
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const instance = instanceArg(name);
      const target = await resolveTarget(await loadCommandConfig(), instance);
      const report = await gatherDiagnosis(target);
      if (options.json) printJson(report);
      else stdout(renderDiagnosis(report));
      process.exitCode = report.verdict === 'healthy' ? EXIT.ok : EXIT.failed;
    });

  program
    .command('restart <instance>')
    .description("restart a Gateway through PM2 (start it if stopped), after checking that its config is valid, then wait until it answers; serialized with lifeguard's own repairs; works while the supervisor is down")
    .option('--force', 'restart even into a config that does not validate')
    .option('--no-wait', 'do not wait for the Gateway to answer')
    .option('--timeout <duration>', 'how long to wait for health, e.g. 180s or 3m', '180s')
    .option('--by <name>', 'who restarts (for the incident record; default: the user running the command)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({
      ok: 'restarted and healthy (with --no-wait: restarted)',
      failed: 'not healthy within --timeout, or not registered in PM2',
      usage: 'unknown instance or a bad option value',
      refused: 'refused: the config is invalid (fix it, or use --force)',
      busy: LOCK_BUSY_HELP,
      pm2: 'PM2 not reachable',
    }))
    .action(async (name: string, options: { force?: boolean; wait: boolean; timeout: string; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const timeoutMs = parseWaitTimeout(options.timeout);
      const settings = await loadCommandConfig();
      const who = actor(options.by);
      const askedAt = Date.now();
      const audit = (text: string) => auditIncident(settings.home, instance, who, `lifeguard restart ${instance}${options.force ? ' --force' : ''}: ${text}`);
      const report = await withRepairLock(settings.home, { timeoutMs: settings.repair.lockTimeoutMs, who, what: `restart ${instance}`, expectedMs: timeoutMs + 60_000 }, async () =>
        restartInstance(await resolveTarget(settings, instance), { force: options.force === true, wait: options.wait, timeoutMs, askedAt }))
        .catch(async (error: unknown) => {
          // A restart that got as far as trying belongs in the incident's story; one that never got the lock did nothing.
          if (error instanceof UserError && error.exitCode !== EXIT.busy) await audit(`failed: ${error.message.split('\n')[0]}`);
          throw error;
        });
      await audit(report.detail);
      if (options.json) printJson(report);
      else stdout(renderRestart(report));
      process.exitCode = report.state === 'refused' ? EXIT.refused : report.healthy === false ? EXIT.failed : EXIT.ok;
    });

  program
    .command('logs <instance>')
    .description("the Gateway's recent output (stdout and stderr from its PM2 log files, in time order), secrets masked")
    .option('--lines <n>', `how many lines, 1 to ${MAX_LOG_LINES}`, '50')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({ ok: 'shown (also when there are no log files yet)', usage: 'unknown instance or a bad --lines' }))
    .action(async (name: string, options: { lines: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const count = parseLineCount(options.lines);
      const target = await resolveTarget(await loadCommandConfig(), instance);
      const tail = await readLogTail(target, count);
      if (options.json) {
        printJson({ instance, files: tail.files, lines: tail.lines });
        return;
      }
      const missing = tail.files.filter((f) => !f.exists).map((f) => f.path);
      stdout(`${instance}: last ${tail.lines.length} lines of ${tail.files.filter((f) => f.exists).map((f) => f.path).join(' and ') || '(no log files yet)'}${missing.length > 0 && missing.length < tail.files.length ? ` (${missing.join(', ')} missing)` : ''}`);
      for (const line of tail.lines) stdout(line);
    });
}

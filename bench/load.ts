/**
 * `npm run bench:load [-- SCENARIO...]`: does lifeguard keep its hands off healthy Gateways on a busy
 * machine, and does it still notice a frozen or spinning one? Real OpenClaw Gateways (main + rescue)
 * under a private PM2 with the lifeguard supervisor, alerts to a webhook receiver on 127.0.0.1, default
 * probe settings (only the restart and action budgets are raised, so that every kill is seen and every
 * deliberate fault is repaired). Load from stress-ng. Prints figures; asserts nothing.
 *
 * Scenarios (all by default, in this order; name some to run only those):
 *   idle        the figures of bench/detection.ts: SIGKILL/SIGSTOP -> verdict, supervisor RSS and CPU
 *   soak        stress-ng --cpu 8 for BENCH_SOAK_MINUTES (10) with both Gateways healthy:
 *               down verdicts, PM2 restarts, pid changes, alerts                         (target 0, pids unchanged)
 *   restarts    BENCH_ROUNDS (5) x: stress-ng --cpu 4 --hdd 2 --io 2, `pm2 restart` of both Gateways at once,
 *               BENCH_WATCH_SECONDS (240) watched: hung verdicts, kills                  (target 0)
 *   cold-start  the same, while a third OpenClaw Gateway cold-starts beside them          (target 0)
 *   hang        BENCH_HANG_RUNS (3) x SIGSTOP and x busy loop of the main, idle and under the mixed load:
 *               fault -> `down`               (targets: SIGSTOP <= 10 s; busy loop <= 10 s idle, <= 30 s loaded)
 *
 * Other settings: BENCH_RUNS (5) and BENCH_IDLE_MS (60000) for `idle`, as in bench/detection.ts;
 * BENCH_MIXED_LOAD: stress-ng's workers for `restarts`, `cold-start` and the loaded `hang` (default
 * "--cpu 4 --hdd 2 --io 2"; e.g. "--cpu 4 --hdd 4 --hdd-opts fsync --io 4" for heavier disk I/O).
 * BENCH_IO_DIR: where stress-ng's disk workers write (must be a real disk; default: the run's temp dir,
 * or the repository's dir when /tmp is a tmpfs).
 * Quick run: BENCH_SOAK_MINUTES=2 BENCH_ROUNDS=2 BENCH_HANG_RUNS=2 BENCH_RUNS=3 BENCH_IDLE_MS=30000.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  LifeguardRun, REPO_ROOT, describeResult, instanceOf, pollUntil, provisionRuntime, type JournalEntry,
} from '../test/helpers/harness.js';
import { Receiver } from '../test/helpers/receiver.js';
import { formatIdle, measureIdle } from './support/idle-figures.js';
import {
  CLOCK_TICKS_PER_SECOND, bothHealthy, cpuTicks, describeEntry, journalAfter, machineLoad, median, summary, timeToJournal,
} from './support/measure.js';
import { diskDir, requireStressNg, startStress, type StressLoad } from '../test/helpers/stress.js';
import { startThirdGateway, type ThirdGateway } from './support/third-gateway.js';

const SCENARIOS = ['idle', 'soak', 'restarts', 'cold-start', 'hang'] as const;
type Scenario = (typeof SCENARIOS)[number];

function numberSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

const settings = {
  soakMs: numberSetting('BENCH_SOAK_MINUTES', 10) * 60_000,
  rounds: numberSetting('BENCH_ROUNDS', 5),
  watchMs: numberSetting('BENCH_WATCH_SECONDS', 240) * 1_000,
  hangRuns: numberSetting('BENCH_HANG_RUNS', 3),
  idleRuns: numberSetting('BENCH_RUNS', 5),
  idleMs: numberSetting('BENCH_IDLE_MS', 60_000),
};

const CPU_LOAD = ['--cpu', '8'];
/** Faults hit a main past the detector's settle window (probes.settleMs, 120 s), like an owner's Gateway. */
const SETTLED_MS = 125_000;
const MIXED_LOAD = (process.env.BENCH_MIXED_LOAD || '--cpu 4 --hdd 2 --io 2').trim().split(/\s+/);
const GATEWAYS = ['gateway-main', 'gateway-rescue'] as const;
const SPIN_PRELOAD = fileURLToPath(new URL('../test/fixtures/spin-preload.mjs', import.meta.url));

const progress = (text: string) => process.stderr.write(`# ${new Date().toISOString().slice(11, 19)} ${text}\n`);

/** Everything that must be stopped when the benchmark ends, however it ends. */
const running = { stress: new Set<StressLoad>(), third: new Set<ThirdGateway>(), ioDir: REPO_ROOT };

function load(workers: readonly string[], maxMs: number): StressLoad {
  const stress = startStress(workers, maxMs / 1000, running.ioDir);
  running.stress.add(stress);
  progress(`load: ${stress.command}`);
  return stress;
}

async function unload(stress: StressLoad): Promise<void> {
  await stress.stop();
  running.stress.delete(stress);
}

interface AppState {
  readonly pid: number;
  readonly restarts: number;
  readonly status: string;
}

async function pm2Apps(run: LifeguardRun): Promise<Map<string, AppState>> {
  const apps = new Map<string, AppState>();
  for (const entry of await run.pm2List()) {
    apps.set(entry.name, { pid: entry.pid, restarts: Number(entry.pm2_env.restart_time ?? 0), status: String(entry.pm2_env.status) });
  }
  return apps;
}

/** PM2 restarts and pid changes of each app between two looks; neither was asked for by the benchmark. */
function unaskedRestarts(before: Map<string, AppState>, after: Map<string, AppState>): { total: number; text: string; pidsUnchanged: boolean } {
  let total = 0;
  let pidsUnchanged = true;
  const parts = [...before].map(([name, was]) => {
    const now = after.get(name);
    const restarts = (now?.restarts ?? was.restarts) - was.restarts;
    const pidChanged = now?.pid !== was.pid;
    if (name !== 'lifeguard') total += restarts;
    if (pidChanged) pidsUnchanged = false;
    return `${name} ${restarts}${pidChanged ? ` (pid ${was.pid} -> ${now?.pid ?? 'gone'})` : ''}`;
  });
  return { total, text: parts.join(', '), pidsUnchanged };
}

interface LoadSamples {
  readonly load1: number[];
  readonly cpu: number[];
  readonly io: number[];
}

/** Samples the machine's load every 5 s until `untilMs` (Date.now() based). */
async function watchLoad(untilMs: number): Promise<LoadSamples> {
  const seen: LoadSamples = { load1: [], cpu: [], io: [] };
  while (Date.now() < untilMs) {
    const now = machineLoad();
    seen.load1.push(now.load1);
    if (now.cpuSomeAvg10 !== undefined) seen.cpu.push(now.cpuSomeAvg10);
    if (now.ioSomeAvg10 !== undefined) seen.io.push(now.ioSomeAvg10);
    await sleep(Math.min(5_000, Math.max(0, untilMs - Date.now())));
  }
  return seen;
}

function describeLoad(seen: LoadSamples): string {
  if (seen.load1.length === 0) return 'no load samples';
  const pressure = (name: string, values: number[]) => (values.length > 0 ? `, ${name} pressure (some, avg10) median ${median(values).toFixed(0)} %` : '');
  return `load average (1 min) median ${median(seen.load1).toFixed(1)}, max ${Math.max(...seen.load1).toFixed(1)}${pressure('CPU', seen.cpu)}${pressure('I/O', seen.io)}`;
}

function countBy(entries: readonly JournalEntry[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(`${e.instance}[${e.classification ?? '-'}]`, (counts.get(`${e.instance}[${e.classification ?? '-'}]`) ?? 0) + 1);
  return counts.size === 0 ? 'none' : [...counts].map(([key, n]) => `${key} ${n}`).join(', ');
}

const indent = (lines: readonly string[]) => lines.map((line) => `    ${line}`);

// ---------------------------------------------------------------------------------------------------

async function soak(run: LifeguardRun, receiver: Receiver): Promise<string[]> {
  const status = await run.waitForStatus('both Gateways healthy', bothHealthy, 240_000);
  const supervisor = status.supervisor.pid!;
  await sleep(10_000);
  const before = await pm2Apps(run);
  const seen = run.journal().length;
  const alertsSeen = receiver.events().length;
  const ticks = cpuTicks(supervisor);
  const started = Date.now();
  const stress = load(CPU_LOAD, settings.soakMs + 60_000);
  const seenLoad = await watchLoad(started + settings.soakMs);
  await unload(stress);
  const supervisorCpu = ((cpuTicks(supervisor) - ticks) * 1000) / CLOCK_TICKS_PER_SECOND / (Date.now() - started);
  const after = await pm2Apps(run);
  const entries = journalAfter(run, seen);
  const downs = entries.filter((e) => e.to === 'down');
  const alerts = receiver.events().slice(alertsSeen);
  const restarts = unaskedRestarts(before, after);
  return [
    `soak under load: stress-ng ${CPU_LOAD.join(' ')} for ${(settings.soakMs / 1000).toFixed(0)} s, both Gateways healthy at the start`,
    ...indent([
      describeLoad(seenLoad),
      `down verdicts: ${downs.length} (${countBy(downs)}); suspect (near misses): ${entries.filter((e) => e.to === 'suspect').length}`,
      `state changes in events.jsonl: ${entries.length}`,
      `PM2 restarts: ${restarts.text}; pids unchanged: ${restarts.pidsUnchanged ? 'yes' : 'NO'}`,
      `alerts received: ${alerts.length}${alerts.length > 0 ? ` (${alerts.map((a) => a.event).join(', ')})` : ''}`,
      `supervisor CPU under load: ${(supervisorCpu * 100).toFixed(2)} % of a core`,
      ...entries.map(describeEntry),
    ]),
    `SUMMARY soak: ${downs.length} down, ${restarts.total} Gateway restarts, ${alerts.length} alerts, pids ${restarts.pidsUnchanged ? 'unchanged' : 'CHANGED'}   target 0, unchanged`,
  ];
}

interface RoundResult {
  readonly hung: number;
  readonly downs: number;
  readonly suspects: number;
  readonly kills: number;
  readonly alerts: number;
  readonly healthyAfterMs: number[];
  readonly lines: string[];
}

/** One round: mixed load, both Gateways restarted at once through PM2, `watchMs` watched. */
async function restartRound(run: LifeguardRun, receiver: Receiver, round: number, withThird: boolean): Promise<RoundResult> {
  await run.waitForStatus('both Gateways healthy', bothHealthy, 300_000);
  await sleep(5_000);
  const seen = run.journal().length;
  const alertsSeen = receiver.events().length;
  const stress = load(MIXED_LOAD, settings.watchMs + 180_000);
  let third: ThirdGateway | undefined;
  try {
    if (withThird) {
      third = await startThirdGateway(run, `third-${round}`);
      running.third.add(third);
      progress(`third Gateway pid ${third.pid} cold-starting on port ${third.port}`);
    }
    await sleep(3_000);
    const restartedAt = Date.now();
    const restarted = await Promise.all(GATEWAYS.map((app) => run.pm2(['restart', app], { timeoutMs: 120_000 })));
    const refused = restarted.find((r) => r.code !== 0);
    if (refused) throw new Error(`pm2 restart failed:\n${describeResult(refused)}`);
    const afterRestart = await pm2Apps(run);
    progress(`round ${round}: both restarted in ${Date.now() - restartedAt} ms; watching ${settings.watchMs / 1000} s`);
    const seenLoad = await watchLoad(restartedAt + settings.watchMs);
    const end = await pm2Apps(run);
    const entries = journalAfter(run, seen);
    const downs = entries.filter((e) => e.to === 'down');
    const hung = downs.filter((e) => e.classification === 'hung');
    const kills = unaskedRestarts(new Map(GATEWAYS.map((app) => [app, afterRestart.get(app)!])), end);
    const healthyAfterMs = GATEWAYS.flatMap((app) => {
      const instance = app === 'gateway-main' ? 'main' : 'rescue';
      const healthy = entries.find((e) => e.instance === instance && e.to === 'healthy' && Date.parse(e.ts) >= restartedAt);
      return healthy ? [Date.parse(healthy.ts) - restartedAt] : [];
    });
    const alerts = receiver.events().slice(alertsSeen);
    const thirdListening = third?.listeningAfterMs();
    return {
      hung: hung.length,
      // The [stopped] verdicts of the benchmark's own `pm2 restart` are expected.
      downs: downs.filter((e) => e.classification !== 'stopped').length,
      suspects: entries.filter((e) => e.to === 'suspect').length,
      kills: kills.total,
      alerts: alerts.length,
      healthyAfterMs,
      lines: [
        `round ${round}: ${hung.length} hung, ${downs.length} down (${countBy(downs)}), unasked restarts: ${kills.text}, alerts ${alerts.length}${alerts.length > 0 ? ` (${alerts.map((a) => a.event).join(', ')})` : ''}`,
        `  restart -> healthy: ${healthyAfterMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || 'never'}; ${describeLoad(seenLoad)}`,
        ...(withThird ? [`  third Gateway: ${thirdListening === undefined ? 'never listened' : `listening after ${(thirdListening / 1000).toFixed(1)} s`}`] : []),
        ...entries.map((e) => `  ${describeEntry(e)}`),
      ],
    };
  } finally {
    await unload(stress);
    if (third) {
      await third.kill();
      running.third.delete(third);
    }
  }
}

async function restarts(run: LifeguardRun, receiver: Receiver, withThird: boolean): Promise<string[]> {
  const results: RoundResult[] = [];
  const failures: string[] = [];
  for (let round = 1; round <= settings.rounds && failures.length === 0; round += 1) {
    progress(`${withThird ? 'cold-start' : 'restarts'} round ${round}/${settings.rounds}`);
    const seen = run.journal().length;
    try {
      results.push(await restartRound(run, receiver, round, withThird));
    } catch (error) {
      // Typically a Gateway that never came back: what the journal says is the finding.
      failures.push(`round ${round} FAILED: ${error instanceof Error ? error.message : String(error)}`, ...journalAfter(run, seen).map((e) => `  ${describeEntry(e)}`));
    }
  }
  const sum = (pick: (r: RoundResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const name = withThird ? 'cold-start' : 'restarts';
  const what = withThird ? ', a third OpenClaw Gateway cold-starting beside them' : '';
  return [
    `${name}: ${settings.rounds} x (stress-ng ${MIXED_LOAD.join(' ')}${what}; pm2 restart of both Gateways at once; ${settings.watchMs / 1000} s watched)`,
    ...indent(results.flatMap((r) => r.lines)),
    ...indent(failures),
    `    restart -> healthy (both Gateways, all rounds): ${summary(results.flatMap((r) => r.healthyAfterMs))}`,
    `SUMMARY ${name}: ${sum((r) => r.hung)} hung verdicts, ${sum((r) => r.kills)} kills (unasked PM2 restarts), ${sum((r) => r.downs)} other down verdicts (not [stopped]), ${sum((r) => r.suspects)} suspect, ${sum((r) => r.alerts)} alerts in ${results.length} rounds${failures.length > 0 ? ' (then a round FAILED)' : ''}   target 0 hung, 0 kills`,
  ];
}

/** Creates the trigger file the spin preload waits for; fails when the main Gateway does not pick it up. */
function spin(trigger: string): () => void {
  return () => {
    writeFileSync(trigger, '');
    void pollUntil('the spin preload to take the trigger (is it loaded into the main Gateway?)', () => !existsSync(trigger), { timeoutMs: 10_000, intervalMs: 100 })
      .catch((error: unknown) => progress(String(error)));
  };
}

async function hang(run: LifeguardRun, trigger: string): Promise<string[]> {
  const lines: string[] = [];
  const verdicts: string[] = [];
  for (const loaded of [false, true]) {
    const stress = loaded ? load(MIXED_LOAD, 60 * 60_000) : undefined;
    try {
      const stops: number[] = [];
      const spins: number[] = [];
      for (let i = 0; i < settings.hangRuns; i += 1) {
        progress(`hang ${loaded ? 'under load' : 'idle'}: SIGSTOP ${i + 1}/${settings.hangRuns}`);
        stops.push(await timeToJournal(run, (pid) => process.kill(pid, 'SIGSTOP'), (to) => to === 'down', 300_000, SETTLED_MS));
      }
      for (let i = 0; i < settings.hangRuns; i += 1) {
        progress(`hang ${loaded ? 'under load' : 'idle'}: busy loop ${i + 1}/${settings.hangRuns}`);
        spins.push(await timeToJournal(run, spin(trigger), (to) => to === 'down', 300_000, SETTLED_MS));
      }
      const where = loaded ? `under stress-ng ${MIXED_LOAD.join(' ')}` : 'idle';
      lines.push(
        `    SIGSTOP -> down, ${where}:   ${summary(stops)}   target <= 10000 ms`,
        `    busy loop -> down, ${where}: ${summary(spins)}   target <= ${loaded ? 30_000 : 10_000} ms`,
      );
      verdicts.push(`SIGSTOP ${loaded ? 'loaded' : 'idle'} ${(median(stops) / 1000).toFixed(1)} s, busy loop ${loaded ? 'loaded' : 'idle'} ${(median(spins) / 1000).toFixed(1)} s`);
    } finally {
      if (stress) await unload(stress);
    }
  }
  return [
    `hang: ${settings.hangRuns} x SIGSTOP and ${settings.hangRuns} x busy loop (spin preload) of the main, up ${SETTLED_MS / 1000} s or more, idle then under load; the busy loop starts up to 200 ms after the trigger`,
    ...lines,
    `SUMMARY hang (medians): ${verdicts.join('; ')}   targets SIGSTOP <= 10 s, busy loop <= 10 s idle / <= 30 s loaded`,
  ];
}

async function idle(run: LifeguardRun): Promise<string[]> {
  const figures = await measureIdle(run, { runs: settings.idleRuns, idleMs: settings.idleMs });
  const seconds = (values: readonly number[]) => `${(median(values) / 1000).toFixed(1)} s`;
  return [
    `idle (as bench/detection.ts); load average (1 min) at the end: ${machineLoad().load1.toFixed(1)}`,
    ...indent(formatIdle(figures)),
    `SUMMARY idle (medians): SIGKILL -> down ${seconds(figures.kills)}, SIGSTOP -> down ${seconds(figures.stops)}, RSS max ${figures.rssMaxMb.toFixed(1)} MB, CPU ${(figures.cpuShare * 100).toFixed(2)} %, ${figures.cpuPerCycleMs.toFixed(2)} ms per probe cycle`,
  ];
}

function runScenario(scenario: Scenario, run: LifeguardRun, receiver: Receiver, trigger: string): Promise<string[]> {
  switch (scenario) {
    case 'idle':
      return idle(run);
    case 'soak':
      return soak(run, receiver);
    case 'restarts':
      return restarts(run, receiver, false);
    case 'cold-start':
      return restarts(run, receiver, true);
    case 'hang':
      return hang(run, trigger);
  }
}

// ---------------------------------------------------------------------------------------------------

function chosenScenarios(args: readonly string[]): Scenario[] {
  const unknown = args.filter((a) => !(SCENARIOS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from: ${SCENARIOS.join(' ')} (none = all)`);
  return args.length === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => args.includes(s));
}

async function main(): Promise<void> {
  const scenarios = chosenScenarios(process.argv.slice(2));
  if (scenarios.some((s) => s !== 'idle')) requireStressNg();
  const receiver = await Receiver.start();
  const run = await LifeguardRun.create({ flavour: 'openclaw' });
  const trigger = `${run.dir}/spin-trigger`;
  running.ioDir = process.env.BENCH_IO_DIR || diskDir(run.dir, REPO_ROOT);
  let stopping = false;
  const cleanUp = async () => {
    for (const stress of running.stress) await stress.stop();
    for (const third of running.third) await third.kill();
    await run.teardown();
    run.remove();
    await receiver.down();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      progress(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    writeFileSync(run.configFile, `{
  instances: {
    main: { port: ${run.ports.main}, bonjour: false, env: { NODE_OPTIONS: '--import ${SPIN_PRELOAD}', LG_TEST_SPIN_TRIGGER: '${trigger}' } },
    rescue: { port: ${run.ports.rescue} },
  },
  notify: [{ type: 'webhook', name: 'hook', url: '${receiver.url('/hook')}' }],
  alerts: { resolveAfterMs: 5000, retryMaxDelayMs: 2000 },
  restarts: { maxPerHour: 100, crashLoopExits: 100 },
  escalation: { maxActionsPerHour: 100 },
}\n`);
    const provisioned = await provisionRuntime('openclaw', run.dir);
    if (provisioned.code !== 0) throw new Error(`provisioning failed:\n${describeResult(provisioned)}`);
    progress(`lifeguard up in ${run.dir} (scenarios: ${scenarios.join(' ')})`);
    const up = await run.cli(['up'], 300_000);
    if (up.code !== 0) throw new Error(`lifeguard up failed:\n${describeResult(up)}`);
    const status = await run.waitForStatus('both Gateways healthy', bothHealthy, 300_000);
    progress(`both healthy: main pid ${instanceOf(status, 'main').pid}, rescue pid ${instanceOf(status, 'rescue').pid}, supervisor pid ${status.supervisor.pid}`);

    const report: string[] = ['lifeguard load benchmark: real OpenClaw Gateways under PM2, default probe settings, restart/action budgets raised to 100/h'];
    for (const scenario of scenarios) {
      progress(`scenario ${scenario}`);
      const started = Date.now();
      let lines: string[];
      try {
        lines = await runScenario(scenario, run, receiver, trigger);
      } catch (error) {
        // One scenario that cannot go on (a Gateway that never came back) must not lose the others' figures.
        lines = [`${scenario}: FAILED: ${error instanceof Error ? error.message : String(error)}`, `SUMMARY ${scenario}: failed, see above`];
      }
      lines.push(`    (${scenario} took ${((Date.now() - started) / 60_000).toFixed(1)} min)`);
      process.stdout.write(`${lines.join('\n')}\n`);
      report.push(...lines.filter((l) => l.startsWith('SUMMARY')));
    }
    process.stdout.write(`${report.join('\n')}\n`);
  } finally {
    if (!stopping) await cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

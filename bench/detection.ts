/**
 * `npm run bench`: how fast lifeguard notices failures of a real OpenClaw Gateway, and what it costs
 * while idle. Default probe settings; only the restart budget and the crash-loop breaker are raised so
 * that ten deliberate faults in a row are all measured. Prints figures; asserts nothing.
 *
 *   SIGKILL of the main -> first `down`/`recovering` line in events.jsonl   (target <= 1 s)
 *   SIGSTOP of the main -> `down` line                                       (target <= 10 s)
 *   supervisor RSS and CPU while idle                                        (targets <= 60 MB, <= 1 % of a core)
 *   CPU time per probe cycle                                                 (target <= 5 ms)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LifeguardRun, describeResult, instanceOf, pollUntil, provisionRuntime, type StatusView } from '../test/helpers/harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 60_000);
const PROBE_INTERVAL_MS = 2_000; // the default probes.intervalMs
const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x64

const bothHealthy = (s: StatusView) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy';

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(line.replace(/\D+/g, '')) / 1024;
}

function summary(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, n=${sorted.length})`;
}

/** Milliseconds from `fault()` to the first journal line of the main Gateway that `matches`. */
async function timeToJournal(run: LifeguardRun, fault: (pid: number) => void, matches: (to: string) => boolean): Promise<number> {
  const status = await run.waitForStatus('both Gateways healthy', bothHealthy, 180_000);
  const pid = instanceOf(status, 'main').pid;
  if (pid === null) throw new Error('main has no pid');
  const seen = run.journal().length;
  const started = Date.now();
  fault(pid);
  const entry = await pollUntil('the fault in events.jsonl', () => run.journalSince(seen, 'main').find((e) => matches(e.to)), { timeoutMs: 60_000, intervalMs: 20 });
  return Date.parse(entry.ts) - started;
}

async function main(): Promise<void> {
  const run = await LifeguardRun.create({ flavour: 'openclaw' });
  try {
    writeFileSync(run.configFile, `{
  instances: { main: { port: ${run.ports.main}, bonjour: false }, rescue: { port: ${run.ports.rescue} } },
  restarts: { maxPerHour: 100, crashLoopExits: 100 },
}\n`);
    const provisioned = await provisionRuntime('openclaw', run.dir);
    if (provisioned.code !== 0) throw new Error(`provisioning failed:\n${describeResult(provisioned)}`);
    const up = await run.cli(['up'], 300_000);
    if (up.code !== 0) throw new Error(`lifeguard up failed:\n${describeResult(up)}`);
    const status = await run.waitForStatus('both Gateways healthy', bothHealthy, 240_000);
    const supervisor = status.supervisor.pid;
    if (supervisor === null) throw new Error('no supervisor pid');

    await sleep(5_000);
    const ticksBefore = cpuTicks(supervisor);
    const rssSamples: number[] = [];
    const idleStarted = Date.now();
    while (Date.now() - idleStarted < IDLE_MS) {
      rssSamples.push(rssMb(supervisor));
      await sleep(1_000);
    }
    const idleMs = Date.now() - idleStarted;
    const cpuMs = ((cpuTicks(supervisor) - ticksBefore) * 1000) / CLOCK_TICKS_PER_SECOND;
    const cycles = (2 * idleMs) / PROBE_INTERVAL_MS;

    const kills: number[] = [];
    for (let i = 0; i < RUNS; i += 1) kills.push(await timeToJournal(run, (pid) => process.kill(pid, 'SIGKILL'), (to) => to === 'down' || to === 'recovering'));
    const stops: number[] = [];
    for (let i = 0; i < RUNS; i += 1) stops.push(await timeToJournal(run, (pid) => process.kill(pid, 'SIGSTOP'), (to) => to === 'down'));

    const lines = [
      'lifeguard benchmark: real OpenClaw Gateway under PM2, default probe settings',
      `SIGKILL -> down/recovering in events.jsonl: ${summary(kills)}   target <= 1000 ms`,
      `SIGSTOP -> down in events.jsonl:            ${summary(stops)}   target <= 10000 ms`,
      `supervisor RSS while idle:                  max ${Math.max(...rssSamples).toFixed(1)} MB, mean ${(rssSamples.reduce((a, b) => a + b, 0) / rssSamples.length).toFixed(1)} MB   target <= 60 MB`,
      `supervisor CPU while idle:                  ${((cpuMs / idleMs) * 100).toFixed(2)} % of a core over ${(idleMs / 1000).toFixed(0)} s   target <= 1 %`,
      `CPU per probe cycle (2 instances, HTTP+WS): ${(cpuMs / cycles).toFixed(2)} ms   target <= 5 ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await run.teardown();
    run.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

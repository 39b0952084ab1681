/**
 * What the benchmarks share: /proc readers for the supervisor's cost and the machine's load, the
 * median summaries they print, and the fault-to-verdict latency read from events.jsonl.
 */
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../../src/host/proc-stat.js';
import { instanceOf, pollUntil, type JournalEntry, type LifeguardRun, type StatusView } from '../../test/helpers/harness.js';

export { CLOCK_TICKS_PER_SECOND } from '../../src/host/proc-stat.js';

export const bothHealthy = (s: StatusView) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy';

/** utime + stime of `pid`, in clock ticks. */
export function cpuTicks(pid: number): number {
  const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) throw new Error(`cannot read /proc/${pid}/stat`);
  return stat.cpuTicks;
}

export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** `some avg10` of /proc/pressure/<resource>: the share of the last 10 s some task waited for it (%). */
function pressure(resource: 'cpu' | 'io'): number | undefined {
  try {
    const some = readFileSync(`/proc/pressure/${resource}`, 'utf8').split('\n').find((l) => l.startsWith('some ')) ?? '';
    const value = /avg10=([\d.]+)/.exec(some)?.[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined; // no PSI in this kernel
  }
}

/** The machine's 1-minute load average and its CPU and I/O pressure. */
export function machineLoad(): { load1: number; cpuSomeAvg10: number | undefined; ioSomeAvg10: number | undefined } {
  return { load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), cpuSomeAvg10: pressure('cpu'), ioSomeAvg10: pressure('io') };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function summary(values: readonly number[], unit = 'ms'): string {
  if (values.length === 0) return 'no samples';
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(0)} ${unit} (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, n=${sorted.length})`;
}

/** Journal lines of both instances appended after the first `since` lines. */
export function journalAfter(run: LifeguardRun, since: number): JournalEntry[] {
  return run.journal().slice(since);
}

export function describeEntry(e: JournalEntry): string {
  return `${e.ts} ${e.instance} ${e.from}->${e.to}${e.classification ? ` [${e.classification}]` : ''}: ${e.reason.slice(0, 240)}`;
}

/**
 * Milliseconds from `fault(pid)` on the healthy main to the first of its journal lines that `matches`.
 * Waits for both Gateways to be healthy first (up to `healthyWithinMs`).
 */
export async function timeToJournal(
  run: LifeguardRun, fault: (pid: number) => void, matches: (to: string) => boolean, healthyWithinMs = 180_000, upForMs = 0,
): Promise<number> {
  // upForMs: a fault in a Gateway that has run that long (past its settle window), as an owner's usually has.
  const ready = (s: StatusView) => bothHealthy(s) && (instanceOf(s, 'main').uptimeMs ?? 0) >= upForMs;
  const status = await run.waitForStatus(upForMs > 0 ? `both Gateways healthy, the main up ${upForMs / 1000} s` : 'both Gateways healthy', ready, healthyWithinMs + upForMs);
  const pid = instanceOf(status, 'main').pid;
  if (pid === null) throw new Error('main has no pid');
  const seen = run.journal().length;
  const started = Date.now();
  fault(pid);
  const entry = await pollUntil('the fault in events.jsonl', () => run.journalSince(seen, 'main').find((e) => matches(e.to)), { timeoutMs: 120_000, intervalMs: 20 });
  return Date.parse(entry.ts) - started;
}

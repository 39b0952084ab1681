import { readFile } from 'node:fs/promises';

/** The fields of /proc/<pid>/stat that lifeguard judges a process by. */
export interface ProcStat {
  /** R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, X dead. */
  readonly state: string;
  readonly ppid: number;
  /** Clock ticks since boot when the process started: with the pid, the process's identity. */
  readonly startTicks: number;
  /** CPU time the process has used so far (user + system), in clock ticks. */
  readonly cpuTicks: number;
}

/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces and
 * parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state(3) ppid(4) ... utime(14) stime(15) ... starttime(22), numbered as in proc(5).
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const state = fields[0];
  const ppid = Number(fields[1]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const startTicks = Number(fields[19]);
  if (!state || !Number.isFinite(ppid) || !Number.isFinite(startTicks) || !Number.isFinite(cpuTicks)) return undefined;
  return { state, ppid, startTicks, cpuTicks };
}

/** One reading of a process's CPU time, for the share between two readings. */
export interface CpuReading {
  readonly pid: number;
  readonly startTicks: number;
  readonly cpuTicks: number;
  readonly at: number;
}

/**
 * The cores a process used between two readings of it (1 = one core flat out), or undefined when they are
 * not of the same process or too close together to say anything.
 */
export function cpuShareBetween(earlier: CpuReading | undefined, later: CpuReading): number | undefined {
  if (!earlier || earlier.pid !== later.pid || earlier.startTicks !== later.startTicks) return undefined;
  const elapsedMs = later.at - earlier.at;
  if (elapsedMs < 200) return undefined;
  return ((later.cpuTicks - earlier.cpuTicks) * 1000) / CLOCK_TICKS_PER_SECOND / elapsedMs;
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

import { readFile } from 'node:fs/promises';

/** The fields of /proc/<pid>/stat that lifeguard judges a process by. */
export interface ProcStat {
  /** R running, S sleeping, D disk wait, T stopped, t traced, Z zombie, X dead. */
  readonly state: string;
  readonly ppid: number;
  /** Clock ticks since boot when the process started: with the pid, the process's identity. */
  readonly startTicks: number;
}

/**
 * Parses /proc/<pid>/stat. The command name sits in parentheses and may itself contain spaces and
 * parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state(3) ppid(4) ... starttime(22), numbered as in proc(5).
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const state = fields[0];
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!state || !Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { state, ppid, startTicks };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';

/** The share of the last 10 s in which some task waited for CPU or I/O (Linux PSI), in percent. */
export interface PressureReading {
  readonly cpu: number | undefined;
  readonly io: number | undefined;
  /** The 1-minute load average per core, for kernels without PSI. */
  readonly loadPerCore: number;
}

/** Parses the `some avg10=` figure of a /proc/pressure/* file. */
export function parseSomeAvg10(text: string): number | undefined {
  const match = /^some avg10=(\d+(?:\.\d+)?)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Load per core past which a machine without PSI counts as busy. */
const BUSY_LOAD_PER_CORE = 1.5;

/** Why the machine counts as busy, or undefined when it is calm. Pure: the reading is taken apart. */
export function busyReason(reading: PressureReading, thresholdPercent: number): string | undefined {
  const reasons: string[] = [];
  if (reading.cpu !== undefined && reading.cpu >= thresholdPercent) reasons.push(`CPU pressure ${Math.round(reading.cpu)}%`);
  if (reading.io !== undefined && reading.io >= thresholdPercent) reasons.push(`I/O pressure ${Math.round(reading.io)}%`);
  if (reading.cpu === undefined && reading.io === undefined && reading.loadPerCore >= BUSY_LOAD_PER_CORE) {
    reasons.push(`load ${reading.loadPerCore.toFixed(1)} per core`);
  }
  return reasons.length > 0 ? reasons.join(', ') : undefined;
}

export async function readPressure(): Promise<PressureReading> {
  const read = (name: string) => readFile(`/proc/pressure/${name}`, 'utf8').then(parseSomeAvg10, () => undefined);
  const [cpu, io] = await Promise.all([read('cpu'), read('io')]);
  return { cpu, io, loadPerCore: loadavg()[0]! / Math.max(1, cpus().length) };
}

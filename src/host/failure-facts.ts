import { setTimeout as delay } from 'node:timers/promises';
import type { FailureEvidence } from '../detector/types.js';
import { busyReason, readPressure } from './pressure.js';
import { cpuShareBetween, readProcStat, type CpuReading } from './proc-stat.js';

/** A reading older than this says nothing about the failure now. */
const STALE_READING_MS = 30_000;
/** How long the first look at a failing Gateway's CPU lasts (25 clock ticks). */
const FIRST_SAMPLE_MS = 250;

/**
 * What /proc says when a probe of one Gateway fails: its process state, how busy the machine is, and the
 * cores the Gateway used since the previous failed probe. Read only after a failure, so a Gateway that
 * answers costs nothing extra; the one remembered reading belongs to this Gateway alone.
 */
export function failureFactsReader(busyPressurePercent: number, now: () => number): (pid: number | undefined) => Promise<Omit<FailureEvidence, 'ownLagMs'>> {
  let previous: CpuReading | undefined;
  const read = async (pid: number): Promise<{ state: string; reading: CpuReading } | undefined> => {
    const stat = await readProcStat(pid);
    return stat && { state: stat.state, reading: { pid, startTicks: stat.startTicks, cpuTicks: stat.cpuTicks, at: now() } };
  };
  return async (pid) => {
    let current = pid === undefined ? undefined : await read(pid);
    if (current && !sameProcessLately(previous, current.reading)) {
      // The first failure of a streak: a short second look, so that a spinning Gateway is known at once.
      previous = current.reading;
      await delay(FIRST_SAMPLE_MS);
      current = (await read(current.reading.pid)) ?? current;
    }
    const cpuShare = current ? cpuShareBetween(previous, current.reading) : undefined;
    previous = current?.reading;
    return {
      processState: current?.state,
      busy: busyReason(await readPressure(), busyPressurePercent),
      ...(cpuShare === undefined ? {} : { cpuShare }),
    };
  };
}

/** The remembered reading is of this very process (a reused pid is another) and recent enough to compare. */
function sameProcessLately(previous: CpuReading | undefined, now: CpuReading): boolean {
  return previous !== undefined && previous.pid === now.pid && previous.startTicks === now.startTicks && now.at - previous.at <= STALE_READING_MS;
}

/**
 * The idle figures of `npm run bench` (bench/detection.ts), also printed by bench/load.ts beside its
 * figures under load: SIGKILL and SIGSTOP of the main to the verdict in events.jsonl, and what the
 * supervisor costs while the Gateways are healthy.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LifeguardRun } from '../../test/helpers/harness.js';
import { CLOCK_TICKS_PER_SECOND, bothHealthy, cpuTicks, rssMb, summary, timeToJournal } from './measure.js';

const PROBE_INTERVAL_MS = 2_000; // the default probes.intervalMs

export interface IdleSettings {
  /** Faults of each kind. */
  readonly runs: number;
  /** How long the supervisor's RSS and CPU are sampled. */
  readonly idleMs: number;
}

export interface IdleFigures {
  readonly kills: readonly number[];
  readonly stops: readonly number[];
  readonly rssMaxMb: number;
  readonly rssMeanMb: number;
  readonly idleMs: number;
  /** Share of one core. */
  readonly cpuShare: number;
  readonly cpuPerCycleMs: number;
}

/** Measures on a run that is up (default probe settings). */
export async function measureIdle(run: LifeguardRun, settings: IdleSettings): Promise<IdleFigures> {
  const status = await run.waitForStatus('both Gateways healthy', bothHealthy, 240_000);
  const supervisor = status.supervisor.pid;
  if (supervisor === null) throw new Error('no supervisor pid');

  await sleep(5_000);
  const ticksBefore = cpuTicks(supervisor);
  const rssSamples: number[] = [];
  const idleStarted = Date.now();
  while (Date.now() - idleStarted < settings.idleMs) {
    rssSamples.push(rssMb(supervisor));
    await sleep(1_000);
  }
  const idleMs = Date.now() - idleStarted;
  const cpuMs = ((cpuTicks(supervisor) - ticksBefore) * 1000) / CLOCK_TICKS_PER_SECOND;
  const cycles = (2 * idleMs) / PROBE_INTERVAL_MS;

  const kills: number[] = [];
  for (let i = 0; i < settings.runs; i += 1) kills.push(await timeToJournal(run, (pid) => process.kill(pid, 'SIGKILL'), (to) => to === 'down' || to === 'recovering'));
  const stops: number[] = [];
  for (let i = 0; i < settings.runs; i += 1) stops.push(await timeToJournal(run, (pid) => process.kill(pid, 'SIGSTOP'), (to) => to === 'down'));

  return {
    kills, stops, idleMs,
    rssMaxMb: Math.max(...rssSamples),
    rssMeanMb: rssSamples.reduce((a, b) => a + b, 0) / rssSamples.length,
    cpuShare: cpuMs / idleMs,
    cpuPerCycleMs: cpuMs / cycles,
  };
}

export function formatIdle(f: IdleFigures): string[] {
  return [
    `SIGKILL -> down/recovering in events.jsonl: ${summary(f.kills)}   target <= 1000 ms`,
    `SIGSTOP -> down in events.jsonl:            ${summary(f.stops)}   target <= 10000 ms`,
    `supervisor RSS while idle:                  max ${f.rssMaxMb.toFixed(1)} MB, mean ${f.rssMeanMb.toFixed(1)} MB   target <= 60 MB`,
    `supervisor CPU while idle:                  ${(f.cpuShare * 100).toFixed(2)} % of a core over ${(f.idleMs / 1000).toFixed(0)} s   target <= 1 %`,
    `CPU per probe cycle (2 instances, HTTP+WS): ${f.cpuPerCycleMs.toFixed(2)} ms   target <= 5 ms`,
  ];
}

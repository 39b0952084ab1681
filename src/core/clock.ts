/**
 * Time as the supervisor measures it. `now()` is wall time when the process started plus the monotonic
 * time elapsed since: readable as a date in records and logs, yet immune to clock steps (NTP, a VM resumed,
 * an owner's `date -s`) for every duration that grace periods, failure windows, budgets, crash-loop windows,
 * leases and deadlines are measured with. It is re-anchored to the wall clock whenever the supervisor starts.
 */
export interface Clock {
  readonly now: () => number;
}

export function steadyClock(wall: () => number = Date.now, monotonic: () => number = monotonicMs): Clock {
  const wallAtStart = wall();
  const monoAtStart = monotonic();
  return { now: () => wallAtStart + (monotonic() - monoAtStart) };
}

export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

// What housekeeping does, decided from facts alone (sizes, records, the time): no I/O here.

/** One step of a rotation: move `from` to `to`, or delete it when `to` is null. */
export interface RotationStep {
  readonly from: string;
  readonly to: string | null;
}

/**
 * `log` → `log.1` → … → `log.<keep>`, the oldest deleted; only when `log` is larger than `maxBytes`.
 * `existing` are the rotated files there now, so that no step names a file that is not there.
 */
export function rotationSteps(path: string, bytes: number | undefined, maxBytes: number, keep: number, existing: ReadonlySet<string>): RotationStep[] {
  if (bytes === undefined || bytes <= maxBytes) return [];
  const steps: RotationStep[] = [];
  if (existing.has(`${path}.${keep}`)) steps.push({ from: `${path}.${keep}`, to: null });
  for (let n = keep - 1; n >= 1; n -= 1) {
    if (existing.has(`${path}.${n}`)) steps.push({ from: `${path}.${n}`, to: `${path}.${n + 1}` });
  }
  steps.push({ from: path, to: `${path}.1` });
  return steps;
}

/** A resolved incident whose end is older than the retention; an open one is never expired. */
export function incidentExpired(record: { readonly status: string; readonly resolvedAt?: number | undefined; readonly openedAt: number }, now: number, retentionMs: number): boolean {
  return record.status === 'resolved' && now - (record.resolvedAt ?? record.openedAt) > retentionMs;
}

/** A settled (delivered or given-up) delivery older than the retention. */
export function deliveryExpired(delivery: { readonly createdAt: number; readonly settledAt?: number | undefined }, now: number, retentionMs: number): boolean {
  return now - (delivery.settledAt ?? delivery.createdAt) > retentionMs;
}

import { UserError } from './errors.js';

/** A duration as people say it: 45s, 3m 20s, 2h 5m, 3d 4h. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${m % 60}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)\s*(ms|s|m|h|d)?/g;

export interface DurationRange {
  /** What is being set, as the error names it: "a pause", "--timeout". */
  readonly what: string;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * The one duration grammar of every command and chat command: `500ms`, `90s`, `10m`, `2h`, `1d`, combined
 * (`1h30m`), a bare number meaning seconds; within `range`, or a UserError (exit 2) saying what is allowed.
 */
export function parseDuration(text: string, range: DurationRange): number {
  const trimmed = text.trim().toLowerCase();
  const parts = [...trimmed.matchAll(PART)];
  const bareTail = parts.slice(0, -1).some((p) => p[2] === undefined);
  if (parts.length === 0 || bareTail || parts.map((p) => p[0]).join('').replace(/\s/g, '') !== trimmed.replace(/\s/g, '')) {
    throw new UserError(`"${text}" is not a duration; write it like 90s, 10m, 1h30m or 1d`, 2);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2] ?? 's']!, 0);
  if (ms < range.minMs || ms > range.maxMs) {
    throw new UserError(`${range.what} must last between ${spell(range.minMs)} and ${spell(range.maxMs)} (got ${text})`, 2);
  }
  return ms;
}

/** A duration in the grammar above, exactly: 7d, 1h, 1h30m, 5s. */
function spell(ms: number): string {
  let left = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const count = Math.floor(left / UNITS[unit]!);
    if (count > 0) text += `${count}${unit}`;
    left -= count * UNITS[unit]!;
  }
  return text || '0s';
}

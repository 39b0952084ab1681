import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A step that takes longer than this says so again: `up` is never silent for more than 5 s. */
export const PROGRESS_EVERY_MS = 4_000;

/**
 * Runs `work`, saying what it does at once and again every few seconds (with `detail()`, e.g. bytes so
 * far), so a slow step on a busy machine never looks like a hang.
 */
export async function withProgress<T>(
  progress: (line: string) => void,
  label: string,
  work: () => Promise<T>,
  /** `quiet`: say nothing unless it takes longer than one interval. */
  options: { detail?: () => Promise<string>; everyMs?: number; now?: () => number; quiet?: boolean } = {},
): Promise<T> {
  const now = options.now ?? Date.now;
  const started = now();
  if (!options.quiet) progress(`${label}...`);
  let saying = false;
  const timer = setInterval(() => {
    if (saying) return;
    saying = true;
    const elapsed = `${Math.round((now() - started) / 1000)} s`;
    void (options.detail?.() ?? Promise.resolve(''))
      .catch(() => '')
      .then((detail) => progress(`  ...${label.charAt(0).toLowerCase()}${label.slice(1)}: ${elapsed}${detail ? `, ${detail}` : ''}`))
      .finally(() => {
        saying = false;
      });
  }, options.everyMs ?? PROGRESS_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** "57.3 MB of about 201 MB (28%)", or without the share when the size to expect is unknown. */
export function describeBytes(bytes: number, expected?: number): string {
  const mb = megabytes;
  if (!expected) return `${mb(bytes)} so far`;
  // An estimate: never claim 100% before npm says it is done.
  const percent = Math.min(99, Math.floor((100 * bytes) / expected));
  return `${mb(bytes)} of about ${mb(expected)} (${percent}%)`;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0)} MB`;
}

/** Bytes of the files under `dir` (0 while it does not exist). */
export async function directoryBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    total += await stat(join(entry.parentPath ?? entry.path, entry.name)).then((s) => s.size, () => 0);
  }
  return total;
}

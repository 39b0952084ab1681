import { statSync } from 'node:fs';
import { MIN_MASKED_LENGTH, REDACTED, REDACTED_CHANGED } from './vocabulary.js';

/**
 * One place secrets come from (a Gateway's config and `.env`, lifeguard's own config): the files it
 * reads, so the registry knows when to ask again, and a synchronous `collect()` of its values.
 */
export interface SecretSource {
  /** A source tracked again under the same id replaces the previous one. */
  readonly id: string;
  readonly files: readonly string[];
  collect(): Iterable<string>;
}

export interface RegistryOptions {
  readonly now?: () => number;
  /** A cheap fingerprint of a file (mtime and size); a changed one makes its source collect again. */
  readonly fingerprint?: (path: string) => string;
  /** How long a check of the files is trusted before they are looked at again. */
  readonly recheckMs?: number;
}

interface Tracked {
  readonly source: SecretSource;
  stamp: string | undefined;
  values: readonly string[];
}

function fileFingerprint(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
  } catch {
    return 'absent';
  }
}

/**
 * Every secret value lifeguard knows, refreshed when a file it came from changes. A source that fails
 * to collect (a config mid-edit) keeps its previous values: a secret known once stays masked.
 */
export class SecretRegistry {
  private readonly tracked = new Map<string, Tracked>();
  private checkedAt = Number.NEGATIVE_INFINITY;
  private cached: readonly string[] = [];
  private readonly now: () => number;
  private readonly fingerprint: (path: string) => string;
  private readonly recheckMs: number;

  constructor(options: RegistryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.fingerprint = options.fingerprint ?? fileFingerprint;
    this.recheckMs = options.recheckMs ?? 1_000;
  }

  track(source: SecretSource): void {
    const previous = this.tracked.get(source.id);
    this.tracked.set(source.id, { source, stamp: undefined, values: previous?.values ?? [] });
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** The known secrets, longest first (a secret containing another is masked whole). */
  values(): readonly string[] {
    const now = this.now();
    if (now - this.checkedAt < this.recheckMs) return this.cached;
    this.checkedAt = now;
    let changed = false;
    for (const entry of this.tracked.values()) {
      const stamp = entry.source.files.map(this.fingerprint).join('|');
      if (stamp === entry.stamp) continue;
      try {
        const values = [...entry.source.collect()];
        entry.values = [...new Set([...entry.values, ...values])];
        entry.stamp = stamp;
        changed = true;
      } catch {
        // Keep what was known; the next check tries again.
      }
    }
    if (changed) this.cached = maskable([...this.tracked.values()].flatMap((entry) => entry.values));
    return this.cached;
  }
}

/** Distinct values worth searching for in text, longest first. */
export function maskable(values: Iterable<string>): string[] {
  const kept = new Set<string>();
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed.length < MIN_MASKED_LENGTH || trimmed === REDACTED || REDACTED_CHANGED.includes(trimmed)) continue;
    // A short number under a secret key (a timeout in an `env` section) would mask every such count.
    if (/^\d{1,7}$/.test(trimmed)) continue;
    kept.add(trimmed);
  }
  return [...kept].sort((a, b) => b.length - a.length);
}

/**
 * The secrets of this process: lifeguard's composition roots (the supervisor, each CLI command) track
 * their sources once the configs are known; the redactor consults it at every exit.
 */
export const processSecrets = new SecretRegistry();

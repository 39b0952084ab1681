import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ConfigVerdict } from './validate-config.js';

export interface WatcherTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(run: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Reports every change in a directory (the name of the entry, when the platform knows it). */
export type WatchDirectory = (dir: string, onEvent: (name: string | null) => void, onError: (error: Error) => void) => { close(): void };

export interface ConfigWatcherOptions {
  readonly configPath: string;
  /** Validates `configPath` (e.g. `probeConfigValidity`); a throw counts as an `unknown` verdict. */
  readonly validate: () => Promise<ConfigVerdict>;
  /** Called with the first verdict, then only when the file's hash or the verdict changes. */
  readonly onVerdict: (verdict: ConfigVerdict, previous: ConfigVerdict | undefined) => void;
  /** The periodic re-check, which also catches what no file event reports (an `$include`d file, `.env`). */
  readonly intervalMs: number;
  /** Editors and the Gateway write in several steps (temp file, rename, chmod): one check after the last. */
  readonly debounceMs?: number;
  readonly timers?: WatcherTimers;
  readonly watchDirectory?: WatchDirectory;
  /** An exception thrown by `onVerdict`. */
  readonly onError?: (error: unknown) => void;
}

const DEFAULT_DEBOUNCE_MS = 150;

const SYSTEM_TIMERS: WatcherTimers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (run, ms) => setInterval(run, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/** The directory, not the file: a watch on the file follows the old inode once it is replaced by rename. */
const watchWithFs: WatchDirectory = (dir, onEvent, onError) => {
  const watcher = watch(dir, { persistent: false }, (_event, name) => onEvent(name === null ? null : String(name)));
  watcher.on('error', onError);
  return watcher;
};

/**
 * Watches one Gateway config file and reports its verdict when it changes. Checks never overlap: a
 * change during a check runs one more check after it.
 */
export class ConfigWatcher {
  private readonly timers: WatcherTimers;
  private readonly watchDirectory: WatchDirectory;
  private readonly fileName: string;
  private last: ConfigVerdict | undefined;
  private dirWatch: { close(): void } | undefined;
  private debounce: unknown;
  private interval: unknown;
  private running: Promise<void> | undefined;
  private rerun = false;
  private closed = false;

  constructor(private readonly options: ConfigWatcherOptions) {
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.watchDirectory = options.watchDirectory ?? watchWithFs;
    this.fileName = basename(options.configPath);
  }

  /** The last verdict reported. */
  get verdict(): ConfigVerdict | undefined {
    return this.last;
  }

  /** Arms the directory watch and the periodic check, and checks once now. */
  start(): Promise<void> {
    this.armDirectoryWatch();
    this.interval = this.timers.setInterval(() => {
      // A directory that did not exist (or was replaced) is watched again once it does.
      this.armDirectoryWatch();
      void this.check();
    }, this.options.intervalMs);
    return this.check();
  }

  /** Checks now, or once more right after the check in progress. */
  check(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.checkOnce();
      } while (this.rerun && !this.closed);
    })().finally(() => { this.running = undefined; });
    return this.running;
  }

  close(): void {
    this.closed = true;
    this.timers.clearTimeout(this.debounce);
    this.timers.clearInterval(this.interval);
    this.dirWatch?.close();
    this.dirWatch = undefined;
  }

  private armDirectoryWatch(): void {
    if (this.dirWatch || this.closed) return;
    try {
      this.dirWatch = this.watchDirectory(dirname(this.options.configPath), (name) => {
        if (name === null || name === this.fileName) this.scheduleCheck();
      }, () => {
        this.dirWatch?.close();
        this.dirWatch = undefined;
        this.scheduleCheck();
      });
    } catch {
      // The directory is missing: the periodic check reports the missing file and retries the watch.
    }
  }

  private scheduleCheck(): void {
    if (this.closed) return;
    this.timers.clearTimeout(this.debounce);
    this.debounce = this.timers.setTimeout(() => { void this.check(); }, this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  private async checkOnce(): Promise<void> {
    let verdict: ConfigVerdict;
    try {
      verdict = await this.options.validate();
    } catch (error) {
      verdict = { valid: 'unknown', hash: null, detail: `validator failed: ${String(error)}` };
    }
    if (this.closed || !isNews(verdict, this.last)) return;
    const previous = this.last;
    this.last = verdict;
    try {
      this.options.onVerdict(verdict, previous);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

/**
 * A validator that could not run says nothing new about content it already judged, so an `unknown`
 * for the same bytes keeps the earlier verdict instead of flapping.
 */
function isNews(verdict: ConfigVerdict, last: ConfigVerdict | undefined): boolean {
  if (!last) return true;
  if (verdict.valid === 'unknown' && verdict.hash === last.hash) return false;
  return verdictKey(verdict) !== verdictKey(last);
}

function verdictKey(verdict: ConfigVerdict): string {
  if (verdict.valid === false) return JSON.stringify([verdict.hash, false, verdict.kind, verdict.issues]);
  return JSON.stringify([verdict.hash, verdict.valid]);
}

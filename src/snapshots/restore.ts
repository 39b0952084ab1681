import { lstat, open, readFile, rename, stat } from 'node:fs/promises';
import { writeFileAtomically } from '../core/fs.js';
import { compactUtc } from './timestamp.js';

export interface RestoreOptions {
  readonly configPath: string;
  /** What to put back, usually a snapshot's content. Not validated: restoring a kept file must also work. */
  readonly content: string;
  readonly at: number;
}

export interface RestoreResult {
  /** Where the replaced config was kept; absent when there was none or it already held `content`. */
  readonly keptAs?: string;
  /** False when the config already held exactly `content` and nothing was touched. */
  readonly changed: boolean;
}

/**
 * Puts `content` in place of the config, atomically and with the file's mode. The file it replaces is
 * first copied beside it as `<configPath>.lifeguard-rejected-<time>`: the user's edit is never lost.
 * Where no file can be read (a directory, a symlink to nowhere) that entry is moved aside under the same
 * name instead, so the restore still happens.
 */
export async function restoreConfig(options: RestoreOptions): Promise<RestoreResult> {
  const { configPath, content, at } = options;
  if (await notAFile(configPath)) {
    const keptAs = await freeName(configPath, at, async (path) => { await rename(configPath, path); });
    await writeFileAtomically(configPath, content, 0o600);
    return { keptAs, changed: true };
  }
  const current = await readIfExists(configPath);
  if (current?.equals(Buffer.from(content, 'utf8'))) return { changed: false };
  const mode = current ? (await stat(configPath)).mode & 0o777 : 0o600;
  const keptAs = current ? await keepBeside(configPath, current, at) : undefined;
  await writeFileAtomically(configPath, content, mode);
  return keptAs ? { keptAs, changed: true } : { changed: true };
}

/**
 * Writes the bytes under the first free name (`wx` never overwrites an earlier kept file) and flushes
 * them to disk before the config is replaced, so a power cut cannot lose both.
 */
function keepBeside(configPath: string, bytes: Buffer, at: number): Promise<string> {
  return freeName(configPath, at, async (path) => {
    const file = await open(path, 'wx', 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
  });
}

/** Runs `put` with the first `<configPath>.lifeguard-rejected-<time>[-n]` that is free; `put` throws EEXIST when it is not. */
async function freeName(configPath: string, at: number, put: (path: string) => Promise<void>): Promise<string> {
  const base = `${configPath}.lifeguard-rejected-${compactUtc(at)}`;
  for (let attempt = 1; ; attempt += 1) {
    const path = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      // rename() would replace an existing file: look first (nothing else writes these names).
      if (await lstat(path).then(() => true, () => false)) continue;
      await put(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** A directory, or a symlink whose target is missing or a directory: there is no file to read or replace. */
async function notAFile(path: string): Promise<boolean> {
  const entry = await lstat(path).catch(() => undefined);
  if (!entry) return false;
  const target = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
  return target === undefined || target.isDirectory();
}

/** The raw bytes, so a file that is not valid UTF-8 is kept exactly too. */
async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

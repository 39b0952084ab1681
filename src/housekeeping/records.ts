import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Where records that cannot be read are moved, beside the records of their kind. */
export const UNREADABLE_DIR = 'unreadable';

export type RecordScan<T> = { readonly records: Array<{ readonly file: string; readonly record: T }>; readonly unreadable: string[] };

/** Every `*.json` record of a folder, and the files that are not JSON (cut by a crash, edited by hand). */
export async function scanRecords<T>(dir: string): Promise<RecordScan<T>> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).sort();
  const records: Array<{ file: string; record: T }> = [];
  const unreadable: string[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      records.push({ file, record: JSON.parse(await readFile(file, 'utf8')) as T });
    } catch (error) {
      // Gone since the listing (settled, pruned by someone else) is not unreadable.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push(file);
    }
  }
  return { records, unreadable };
}

/** Moves unreadable records into `<dir>/unreadable/`, never deleting them; returns where they went. */
export async function moveAside(dir: string, files: readonly string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const aside = join(dir, UNREADABLE_DIR);
  await mkdir(aside, { recursive: true, mode: 0o700 });
  const moved: string[] = [];
  for (const file of files) {
    const to = join(aside, file.slice(dir.length + 1));
    await rename(file, to).then(() => moved.push(to), () => undefined);
  }
  return moved;
}

/** The records moved aside so far, for `lifeguard incidents` to list. */
export async function listUnreadable(dir: string): Promise<string[]> {
  const aside = join(dir, UNREADABLE_DIR);
  return (await readdir(aside).catch(() => [] as string[])).sort().map((name) => join(aside, name));
}

export async function removeFiles(files: readonly string[]): Promise<void> {
  for (const file of files) await rm(file, { force: true });
}

import { mkdir, readFile, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes through a temp file and rename, so a crash never leaves a half-written file behind. */
export async function writeFileAtomically(path: string, content: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Imported when first needed: read-only commands never pay for it.
  const { default: writeFileAtomic } = await import('write-file-atomic');
  await writeFileAtomic(path, content, { mode });
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** One JSON object per line; appends are atomic for lines under PIPE_BUF on local filesystems. */
export async function appendJsonLine(path: string, record: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await appendFile(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

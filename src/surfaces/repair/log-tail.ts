import { open } from 'node:fs/promises';
import { UserError } from '../../core/errors.js';
import { redactText } from '../../secrets/redact.js';
import { logFilesOf } from '../../pm2/apps.js';
import { mergeLogLines } from '../diagnose.js';
import { journalPath, type JournalEntry } from '../journal.js';
import { EXIT } from '../commands/exit-codes.js';
import type { RepairTarget } from './target.js';

const MAX_LINE_CHARS = 2_000;
export const MAX_LOG_LINES = 5_000;
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** 1 to 5000. */
export function parseLineCount(text: string): number {
  const lines = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(lines >= 1 && lines <= MAX_LOG_LINES)) throw new UserError(`--lines "${text}" must be a whole number from 1 to ${MAX_LOG_LINES}`, EXIT.usage);
  return lines;
}

/** The last `count` lines of a file (undefined when it does not exist), reading only its end. */
export async function readTailLines(path: string, count: number): Promise<string[] | undefined> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024 + count * 2 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift();
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

export interface LogTail {
  readonly files: Array<{ path: string; stream: 'out' | 'err'; exists: boolean }>;
  readonly lines: string[];
}

/** The Gateway's recent output from its PM2 log files, in time order, secrets masked. */
export async function readLogTail(target: RepairTarget, count: number): Promise<LogTail> {
  const paths = logFilesOf(target.settings.home, target.instance.appName);
  const streams = await Promise.all((['out', 'err'] as const).map(async (stream) => ({ stream, path: paths[stream], lines: await readTailLines(paths[stream], count) })));
  const clean = (line: string) => {
    const text = redactText(line.replace(ANSI, '').trimEnd(), target.secrets);
    return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 3)}...` : text;
  };
  return {
    files: streams.map(({ stream, path, lines }) => ({ path, stream, exists: lines !== undefined })),
    lines: mergeLogLines(streams.map((s) => (s.lines ?? []).map(clean)), count),
  };
}

export async function readJournal(home: string): Promise<JournalEntry[]> {
  const lines = (await readTailLines(journalPath(home), 2_000).catch(() => undefined)) ?? [];
  const entries: JournalEntry[] = [];
  for (const line of lines) {
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // a line cut by a crash mid-append
    }
  }
  return entries;
}

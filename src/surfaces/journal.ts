import { join } from 'node:path';
import { appendJsonLine } from '../core/fs.js';
import { redactStrings } from '../secrets/redact.js';

export interface JournalEntry {
  readonly ts: string;
  readonly instance: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly classification?: string;
}

export function journalPath(home: string): string {
  return join(home, 'events.jsonl');
}

/** The append-only record of every state change, one JSON object per line. */
export function createJournal(home: string) {
  const path = journalPath(home);
  return {
    path,
    append: (entry: JournalEntry) => appendJsonLine(path, redactStrings(entry)),
  };
}

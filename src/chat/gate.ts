import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { admit, type Admission, type SenderHistory } from './admission.js';
import { replyChatBusy } from './reply.js';

/**
 * One `lifeguard chat` at a time: a second message while one is answered (a restart waits minutes) is told
 * "busy" at once instead of piling up Node processes and repairs. The lock outlives a killed holder by 30 s.
 */
export async function oneChatAtATime(home: string, answer: () => Promise<string>): Promise<string> {
  const target = join(home, 'state', 'chat.lock');
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  await (await open(target, 'a', 0o600)).close();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, { retries: 0, stale: 30_000, update: 5_000, realpath: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return replyChatBusy();
    throw error;
  }
  try {
    return await answer();
  } finally {
    await release().catch(() => {});
  }
}

/** The per-sender rate limit, its history kept in the state dir (read and written under the chat lock). */
export async function admitSender(home: string, sender: string, now: number): Promise<Admission> {
  const path = join(home, 'state', 'chat-senders.json');
  let history: SenderHistory = {};
  try {
    history = JSON.parse((await readTextIfExists(path)) ?? '{}') as SenderHistory;
  } catch {
    // A damaged file forgets the history rather than refusing everyone.
  }
  const admission = admit(history, sender, now);
  await writeFileAtomically(path, `${JSON.stringify(admission.history)}\n`);
  return admission;
}

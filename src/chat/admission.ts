/**
 * Whether one more `/lifeguard` command from a sender is let through: at most `limit` in any `windowMs`,
 * so a chat that floods commands (a loop, a hostile allowed sender) cannot keep lifeguard's CLI busy.
 * Pure: the history is read and written by the caller, under the one-chat-at-a-time lock.
 */
export interface RateLimit {
  readonly limit: number;
  readonly windowMs: number;
}

export const CHAT_RATE_LIMIT: RateLimit = { limit: 10, windowMs: 60_000 };

/** When each sender's recent commands came, by sender key. */
export type SenderHistory = Readonly<Record<string, readonly number[]>>;

export type Admission =
  | { readonly admitted: true; readonly history: SenderHistory }
  | { readonly admitted: false; readonly retryAfterMs: number; readonly history: SenderHistory };

export function admit(history: SenderHistory, sender: string, now: number, rate: RateLimit = CHAT_RATE_LIMIT): Admission {
  // Only what can still count is kept, for every sender, so the file stays small.
  const recent: Record<string, number[]> = {};
  for (const [key, times] of Object.entries(history)) {
    const kept = times.filter((at) => at > now - rate.windowMs && at <= now);
    if (kept.length > 0) recent[key] = kept;
  }
  const mine = recent[sender] ?? [];
  if (mine.length >= rate.limit) return { admitted: false, retryAfterMs: mine[mine.length - rate.limit]! + rate.windowMs - now, history: recent };
  return { admitted: true, history: { ...recent, [sender]: [...mine, now] } };
}

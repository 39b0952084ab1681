/**
 * Can a Gateway's channels really hear the owner? A Gateway whose Bot API is unreachable keeps
 * `/readyz` 200 and `channels status` connected, so lifeguard asks the Gateway for its own live channel
 * probe (`health` with `probe: true`: for Telegram a getMe through the Gateway's own client, apiRoot and
 * proxy) and calls a channel deaf once that has failed for `deafAfterMs` without a success in between.
 * Pure: readings in, effects out.
 */

/** One channel of one Gateway, as its latest live probe saw it. */
export interface ChannelReading {
  readonly channel: string;
  readonly hears: boolean;
  /** Why not, as the Gateway put it (short, no token: both Gateways redact their probe errors). */
  readonly detail: string;
}

/** The channels currently failing their probe, and since when; the rest hear. */
export type ChannelWatchState = Readonly<Record<string, { readonly failingSince: number; readonly detail: string; readonly reported: boolean }>>;

export type ChannelEffect =
  | { readonly kind: 'deaf'; readonly channel: string; readonly detail: string; readonly since: number }
  | { readonly kind: 'hears'; readonly channel: string; readonly deafForMs: number };

/** The channel readings in a `health` payload (OpenClaw and Clawdbot both report `channels.<id>.probe`). */
export function channelReadings(payload: unknown): ChannelReading[] {
  const channels = record(record(payload).channels);
  return Object.entries(channels).flatMap(([channel, raw]): ChannelReading[] => {
    const summary = record(raw);
    if (summary.configured === false || summary.enabled === false) return [];
    const probe = record(summary.probe);
    if (probe.ok !== false) return [{ channel, hears: true, detail: '' }];
    const why = [probe.error, probe.status, summary.lastError].find((v) => typeof v === 'string' || typeof v === 'number');
    return [{ channel, hears: false, detail: String(why ?? 'its probe failed').slice(0, 200) }];
  });
}

/**
 * One round of readings. `undefined` means the Gateway did not answer at all: that is the detector's
 * business (down, hung), and says nothing about its channels, so nothing changes.
 */
export function stepChannels(
  state: ChannelWatchState, readings: readonly ChannelReading[] | undefined, at: number, deafAfterMs: number,
): { state: ChannelWatchState; effects: ChannelEffect[] } {
  if (readings === undefined) return { state, effects: [] };
  const next: Record<string, ChannelWatchState[string]> = {};
  const effects: ChannelEffect[] = [];
  const seen = new Set(readings.map((r) => r.channel));
  for (const reading of readings) {
    const failing = state[reading.channel];
    if (reading.hears) {
      if (failing?.reported) effects.push({ kind: 'hears', channel: reading.channel, deafForMs: at - failing.failingSince });
      continue;
    }
    const failingSince = failing?.failingSince ?? at;
    const due = !failing?.reported && at - failingSince >= deafAfterMs;
    if (due) effects.push({ kind: 'deaf', channel: reading.channel, detail: reading.detail, since: failingSince });
    next[reading.channel] = { failingSince, detail: reading.detail, reported: (failing?.reported ?? false) || due };
  }
  // A channel taken out of the config is not deaf any more.
  for (const [channel, failing] of Object.entries(state)) {
    if (!seen.has(channel) && failing.reported) effects.push({ kind: 'hears', channel, deafForMs: at - failing.failingSince });
  }
  return { state: next, effects };
}

/** What the owner reads: "the rescue bot cannot hear you on telegram". */
export function deafSummary(instance: string, channel: string, detail: string): string {
  return `${speaker(instance)} cannot hear you on ${channel}: ${detail}`;
}

export function hearsAgainSummary(instance: string, channel: string, deafForMs: number): string {
  return `${speaker(instance)} hears you on ${channel} again, after ${Math.round(deafForMs / 1000)} s`;
}

function speaker(instance: string): string {
  return instance === 'rescue' ? 'the rescue bot' : `the ${instance} Gateway`;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

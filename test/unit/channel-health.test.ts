import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { channelReadings, deafSummary, stepChannels, type ChannelWatchState } from '../../src/probes/channel-health.js';

const DEAF_AFTER = 60_000;
const deaf = [{ channel: 'telegram', hears: false, detail: 'fetch failed' }];
const hears = [{ channel: 'telegram', hears: true, detail: '' }];

/** Feeds readings every 30 s from t=0 and collects the effects with their times. */
function feed(rounds: ReadonlyArray<typeof deaf | undefined>) {
  let state: ChannelWatchState = {};
  const seen: Array<{ at: number; kind: string }> = [];
  rounds.forEach((readings, i) => {
    const at = i * 30_000;
    const step = stepChannels(state, readings, at, DEAF_AFTER);
    state = step.state;
    for (const effect of step.effects) seen.push({ at, kind: effect.kind });
  });
  return seen;
}

describe('channel health: when a channel counts as deaf', () => {
  it('reads both flavours\' health payloads: a failed live probe is deaf, a passed or absent one hears, an unconfigured channel is skipped', () => {
    const payload = {
      ok: true,
      channels: {
        telegram: { configured: true, running: true, connected: true, lastError: null, probe: { ok: false, error: 'fetch failed' } },
        discord: { configured: true, probe: { ok: true, bot: { username: 'x' } } },
        slack: { configured: true },
        whatsapp: { configured: false, probe: { ok: false, error: 'not linked' } },
      },
    };
    assert.deepEqual(channelReadings(payload), [
      { channel: 'telegram', hears: false, detail: 'fetch failed' },
      { channel: 'discord', hears: true, detail: '' },
      { channel: 'slack', hears: true, detail: '' },
    ]);
    assert.deepEqual(channelReadings({ ok: true, channels: {} }), []);
    assert.deepEqual(channelReadings('garbage'), []);
  });

  it('a channel failing for a minute is reported once, within 3 minutes of going deaf, and resolved at the first success', () => {
    const seen = feed([hears, deaf, deaf, deaf, deaf, deaf, hears, hears]);
    assert.deepEqual(seen, [{ at: 90_000, kind: 'deaf' }, { at: 180_000, kind: 'hears' }]);
    // Deaf from just after t=0 at the latest: reported 90 s later.
    assert.ok(seen[0]!.at - 0 <= 3 * 60_000);
  });

  it('a single failed probe (a blip) raises nothing', () => {
    assert.deepEqual(feed([deaf, hears, deaf, deaf, hears]), []);
  });

  it('a Gateway that does not answer says nothing about its channels: neither raised nor resolved', () => {
    assert.deepEqual(feed([deaf, undefined, undefined, deaf]), [{ at: 90_000, kind: 'deaf' }]);
    assert.deepEqual(feed([deaf, deaf, deaf, undefined, undefined]), [{ at: 60_000, kind: 'deaf' }]);
  });

  it('a deaf channel taken out of the config is resolved', () => {
    let state: ChannelWatchState = {};
    for (const at of [0, 30_000, 60_000]) state = stepChannels(state, deaf, at, DEAF_AFTER).state;
    assert.deepEqual(stepChannels(state, [], 90_000, DEAF_AFTER).effects, [{ kind: 'hears', channel: 'telegram', deafForMs: 90_000 }]);
  });

  it('names the bot the owner talks to', () => {
    assert.equal(deafSummary('rescue', 'telegram', 'fetch failed'), 'the rescue bot cannot hear you on telegram: fetch failed');
    assert.equal(deafSummary('main', 'telegram', 'x'), 'the main Gateway cannot hear you on telegram: x');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { admit, CHAT_RATE_LIMIT } from '../../src/chat/admission.js';
import { admitSender, oneChatAtATime } from '../../src/chat/gate.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('who gets an answer from /lifeguard, and when', () => {
  it('lets a sender through `limit` times in a window, then says when to send again; others are not held up', () => {
    const rate = { limit: 3, windowMs: 60_000 };
    let history = {};
    for (const at of [1_000, 2_000, 3_000]) {
      const admission = admit(history, 'telegram:42', at, rate);
      assert.equal(admission.admitted, true);
      history = admission.history;
    }
    const refused = admit(history, 'telegram:42', 10_000, rate);
    assert.deepEqual([refused.admitted, !refused.admitted && refused.retryAfterMs], [false, 51_000]);
    assert.equal(admit(history, 'discord:7', 10_000, rate).admitted, true, 'another sender has their own budget');
    assert.equal(admit(history, 'telegram:42', 61_001, rate).admitted, true, 'the oldest one has left the window');
  });

  it('forgets what can no longer count', () => {
    const admission = admit({ 'telegram:1': [1_000], 'telegram:2': [50_000] }, 'telegram:3', 100_000);
    assert.deepEqual(Object.keys(admission.history).sort(), ['telegram:2', 'telegram:3']);
  });

  it('answers one chat at a time: a second one while the first runs is told busy, and runs nothing', async () => {
    const home = tempDir('lg-chat-gate-');
    let finishFirst!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const first = oneChatAtATime(home, () => new Promise((resolve) => { entered(); finishFirst = () => resolve('first answered'); }));
    await inside;
    let ranSecond = false;
    const second = await oneChatAtATime(home, async () => { ranSecond = true; return 'second answered'; });
    assert.match(second, /^⏳ Busy: another \/lifeguard command is still being answered/);
    assert.equal(ranSecond, false);
    finishFirst();
    assert.equal(await first, 'first answered');
    assert.equal(await oneChatAtATime(home, async () => 'third answered'), 'third answered', 'free again once the first answered');
  });

  it('keeps the rate history in the state dir across invocations', async () => {
    const home = tempDir('lg-chat-gate-');
    for (let i = 0; i < CHAT_RATE_LIMIT.limit; i += 1) assert.equal((await admitSender(home, 'telegram:42', 1_000 + i)).admitted, true);
    assert.equal((await admitSender(home, 'telegram:42', 2_000)).admitted, false);
  });
});

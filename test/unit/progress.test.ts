import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { describeBytes, withProgress } from '../../src/launch/progress.js';

describe('first-run progress', () => {
  it('says bytes and percent, and never 100% before the install is done', () => {
    assert.equal(describeBytes(57_300_000, 201_000_000), '57 MB of about 201 MB (28%)');
    assert.equal(describeBytes(250_000_000, 201_000_000), '250 MB of about 201 MB (99%)');
    assert.equal(describeBytes(3_400_000), '3.4 MB so far');
  });

  it('says what a step does at once and again every interval until it ends; a quiet step only once it is slow', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let clock = 0;
      const lines: string[] = [];
      let finish!: () => void;
      const step = withProgress((line) => lines.push(line), 'Installing openclaw', () => new Promise<void>((resolve) => (finish = resolve)), {
        everyMs: 4_000, now: () => clock, detail: async () => '10 MB of about 201 MB (4%)',
      });
      assert.deepEqual(lines, ['Installing openclaw...']);
      clock = 4_000;
      mock.timers.tick(4_000);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(lines.slice(1), ['  ...installing openclaw: 4 s, 10 MB of about 201 MB (4%)']);
      finish();
      await step;
      mock.timers.tick(8_000);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(lines.length, 2, 'silent once done');

      const quiet: string[] = [];
      await withProgress((line) => quiet.push(line), 'Installing the plugin', async () => undefined, { quiet: true });
      assert.deepEqual(quiet, []);
    } finally {
      mock.timers.reset();
    }
  });
});

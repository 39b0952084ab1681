/**
 * End-to-end: the owner's phone, through a real Gateway's Telegram channel, on both flavours. A loopback
 * Bot API (test/helpers/fake-telegram.ts) stands in for Telegram, and the whole file runs in a
 * loopback-only network namespace. The owner sends `/lifeguard status`, `diagnose main`, `restore` and
 * `restart main` to the rescue bot and gets the replies; a non-owner's write is refused and changes
 * nothing; the `gateway` provider's alert about the down main arrives in the owner's chat, sent straight
 * to the Bot API as the rescue's bot. OpenClaw is pointed at the fake with `channels.telegram.apiRoot`;
 * Clawdbot, which has no such key, with a test-only fetch preload (test/helpers/telegram-preload.mjs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FakeTelegram, TelegramUser } from '../helpers/fake-telegram.js';
import { FLAVOURS, OWNER_REPAIRS_CONFIG, describeResult, instanceOf, pollUntil, provisionRuntime, type LifeguardRun } from '../helpers/harness.js';
import { reexecInLoopbackNamespace } from '../helpers/netns.js';
import { OWNER, RESCUE_BOT, STRANGER, createPhoneRun, type PhoneRun } from '../helpers/phone-run.js';

// Provisioning needs the npm registry, so it happens before entering the namespace.
await reexecInLoopbackNamespace(async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lifeguard-phone-provision-'));
  try {
    for (const flavour of FLAVOURS) {
      const provisioned = await provisionRuntime(flavour, scratch);
      if (provisioned.code !== 0) throw new Error(`provisioning ${flavour} failed: ${describeResult(provisioned)}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

const UP_DEADLINE_MS = 240_000;

for (const flavour of FLAVOURS) {
  describe(`the phone path over Telegram on ${flavour}`, { timeout: 20 * 60_000 }, () => {
    let phone: PhoneRun;
    let run: LifeguardRun;
    let api: FakeTelegram;
    let ready = false;
    const requireReady = () => assert.ok(ready, 'lifeguard did not come up with a listening rescue bot (see the first failure)');
    const mainConfigPath = () => join(run.home, `.${flavour}`, `${flavour}.json`);

    /** `user` writes `text` to the rescue bot; resolves with the bot's answer in that chat that `accept` takes. */
    async function say(user: TelegramUser, text: string, accept: RegExp, timeoutMs = 90_000): Promise<string> {
      const reply = await phone.say(user, text, (shown) => accept.test(shown), timeoutMs)
        .catch((error: unknown) => assert.fail(`${String(error)}\n${run.diagnostics()}`));
      process.stderr.write(`# ${flavour}: ${user.first_name} "${text}" → ${reply.ms} ms\n${reply.shown.replace(/^/gm, '#   ')}\n`);
      return reply.shown;
    }

    before(async () => {
      // The owner repairs the main from the phone: lifeguard must not do it first.
      phone = await createPhoneRun(flavour, { config: OWNER_REPAIRS_CONFIG });
      ({ run, api } = phone);
    });

    after(async () => {
      await phone?.stop();
    });

    it("comes up, and the rescue bot answers the owner's /lifeguard help on Telegram", { timeout: 8 * 60_000 }, async () => {
      const up = await run.cli(['up'], 180_000);
      assert.equal(up.code, 0, describeResult(up));
      await run.waitForStatus('both healthy', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy', UP_DEADLINE_MS);
      // The first command after a start is the slow one; an update sent before the poller runs waits for it.
      await pollUntil('the rescue bot to answer /lifeguard help', () => phone.say(OWNER, '/lifeguard help', (shown) => shown.startsWith('🛟 lifeguard'), 30_000).catch(() => undefined), { timeoutMs: 4 * 60_000, intervalMs: 1_000, describeLast: () => `Bot API calls: ${JSON.stringify(api.calls.slice(-20))}\n${run.diagnostics()}` });
      // Its own bot, and an owner (OpenClaw: ownerAllowFrom; Clawdbot: chat.ownerIds): `check` has nothing to say about it.
      const check = await run.cli(['check', '--json']);
      const warnings = (JSON.parse(check.stdout) as { warnings: string[] }).warnings;
      assert.deepEqual(warnings.filter((w) => /rescue/.test(w)), [], describeResult(check));
      await run.waitForSnapshot();
      ready = true;
    });

    it('/lifeguard status from the owner reports the main and the rescue', async () => {
      requireReady();
      const app = await run.mainApp();
      const reply = await say(OWNER, '/lifeguard status', /main: /);
      assert.match(reply, new RegExp(`^✅ main: healthy \\(pid ${app.pid}, up \\d`));
      assert.match(reply, /\n✅ rescue: healthy/);
    });

    it("a non-owner's /lifeguard restart main is refused and changes nothing", { timeout: 3 * 60_000 }, async () => {
      requireReady();
      const before = await run.mainApp();
      // OpenClaw refuses before the plugin runs; on Clawdbot lifeguard's chat.ownerIds does.
      const refusal = flavour === 'openclaw' ? /requires gateway scope: operator\.write/ : /^⛔ Only the owner may send \/lifeguard restart main\. Nothing was changed\./;
      await say(STRANGER, '/lifeguard restart main', refusal);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      assert.deepEqual(await run.mainApp(), before, 'the main was not restarted');
    });

    it('notify test names the direct route, and the test alert reaches the owner', async () => {
      requireReady();
      const since = Date.now();
      const tested = await run.cli(['notify', 'test', '--json']);
      assert.equal(tested.code, 0, describeResult(tested));
      const [result] = (JSON.parse(tested.stdout) as { results: Array<{ route?: string }> }).results;
      assert.match(result?.route ?? '', /^Telegram Bot API directly as the rescue's bot \(127\.0\.0\.1:\d+\)/);
      await api.waitForSent(RESCUE_BOT.name, OWNER.id, (m) => /lifeguard test alert/.test(m.text), { since, timeoutMs: 10_000 });
    });

    it('main down on a broken config: the alert reaches the phone; diagnose main, restore, restart main bring it back', { timeout: 10 * 60_000 }, async () => {
      requireReady();
      const good = readFileSync(mainConfigPath(), 'utf8');
      const since = Date.now();
      writeFileSync(mainConfigPath(), `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
      process.kill((await run.mainApp()).pid, 'SIGKILL');
      const alert = await api.waitForSent(RESCUE_BOT.name, OWNER.id, (m) => /main/.test(m.text) && /Reply with:\n\/lifeguard diagnose/.test(m.text), { since, timeoutMs: 150_000 })
        .catch((error: unknown) => assert.fail(`${String(error)}\n${run.diagnostics()}`));
      process.stderr.write(`# ${flavour}: alert in the owner's chat ${alert.at - since} ms after the kill\n${alert.text.replace(/^/gm, '#   ')}\n`);
      await pollUntil('the main down on its config', async () => {
        const main = instanceOf(await run.status(), 'main');
        return main.state === 'down' && main.incident ? main : undefined;
      }, { timeoutMs: 120_000, describeLast: () => `${JSON.stringify(run.lastStatus)}\n${run.diagnostics()}` });

      const diagnosed = await say(OWNER, '/lifeguard diagnose main', /^🔴 main: /, 150_000);
      assert.match(diagnosed, /^🔴 main: CONFIG-INVALID\n/);
      assert.match(diagnosed, /\nNext: \/lifeguard restore, then \/lifeguard restart main$/);

      const restored = await say(OWNER, '/lifeguard restore', /Restored snapshot|restore/i, 150_000);
      assert.match(restored, /^✅ Restored snapshot \d{8}T\d{6}Z-[0-9a-f]{8} to /);
      assert.equal(readFileSync(mainConfigPath(), 'utf8'), good, 'the last-known-good config is back');

      const restarted = await say(OWNER, '/lifeguard restart main', /main restart|restarted/i, 330_000);
      assert.match(restarted, /^✅ main restarted and healthy after \d+ s\./);
      await run.waitForStatus('the main healthy again', (s) => instanceOf(s, 'main').state === 'healthy', 60_000);
    });

    type Listed = { id: string; instance: string; status: string; problem: string; summary: string; classification?: string };
    const incidentOf = async (instance: string) => (JSON.parse((await run.cli(['incidents', '--json'])).stdout) as Listed[]).find((i) => i.instance === instance);

    if (flavour === 'openclaw') {
      it('a deaf rescue bot (Bot API unreachable) is reported within 3 minutes, never restarted, and resolved when it hears again', { timeout: 8 * 60_000 }, async () => {
        requireReady();
        const rescuePid = instanceOf(await run.status(), 'rescue').pid;
        const deafAt = Date.now();
        await api.stop();
        const opened = await pollUntil('a degraded incident for the rescue bot', async () => {
          const found = await incidentOf('rescue.telegram');
          return found?.status === 'open' ? found : undefined;
        }, { timeoutMs: 4 * 60_000, intervalMs: 2_000, describeLast: () => run.diagnostics() });
        const detectedMs = Date.now() - deafAt;
        process.stderr.write(`# ${flavour}: deaf rescue bot reported after ${Math.round(detectedMs / 1000)} s: ${opened.summary}\n`);
        assert.equal(opened.problem, 'degraded');
        assert.match(opened.summary, /^the rescue bot cannot hear you on telegram: /);
        assert.ok(detectedMs <= 3 * 60_000, `reported after ${detectedMs} ms`);
        assert.equal(instanceOf(await run.status(), 'rescue').pid, rescuePid, 'the rescue was not restarted');
        const backAt = Date.now();
        await api.resume();
        await pollUntil('the channel incident resolved', async () => (await incidentOf('rescue.telegram'))?.status === 'resolved', { timeoutMs: 3 * 60_000, intervalMs: 2_000, describeLast: () => run.diagnostics() });
        // Both alerts were queued while Telegram was unreachable; the outbox retries them into the chat.
        for (const text of [/the rescue bot cannot hear you on telegram/, /the rescue bot hears you on telegram again/]) {
          await api.waitForSent(RESCUE_BOT.name, OWNER.id, (m) => text.test(m.text), { since: deafAt, timeoutMs: 90_000 });
        }
        process.stderr.write(`# ${flavour}: resolved and both alerts in the owner's chat ${Math.round((Date.now() - backAt) / 1000)} s after the Bot API came back\n`);
      });
    } else {
      // Clawdbot 2026.1.x does not go deaf: it exits on the unhandled `fetch failed` (openclaw issue #14736).
      it('a rescue dying of an unreachable Bot API is reported as a network outage, not looped or frozen, and started again once Telegram is back', { timeout: 10 * 60_000 }, async () => {
        requireReady();
        const deafAt = Date.now();
        await api.stop();
        const opened = await pollUntil('a network incident for the rescue', async () => {
          const found = await incidentOf('rescue');
          return found?.status === 'open' && found.classification === 'network' ? found : undefined;
        }, { timeoutMs: 4 * 60_000, intervalMs: 2_000, describeLast: () => run.diagnostics() });
        process.stderr.write(`# ${flavour}: rescue dying of the network reported after ${Math.round((Date.now() - deafAt) / 1000)} s: ${opened.summary}\n`);
        await pollUntil('the rescue stopped to wait for the network', async () => {
          const rescue = instanceOf(await run.status(), 'rescue');
          return rescue.state === 'down' && /starts it again in/.test(rescue.reason) ? rescue : undefined;
        }, { timeoutMs: 3 * 60_000, intervalMs: 2_000, describeLast: () => `${JSON.stringify(run.lastStatus)}\n${run.diagnostics()}` });
        const backAt = Date.now();
        await api.resume();
        // This run keeps incidents open for 30 min after a recovery (OWNER_REPAIRS_CONFIG): healthy is the sign.
        await run.waitForStatus('the rescue started again by lifeguard and healthy', (s) => instanceOf(s, 'rescue').state === 'healthy', 6 * 60_000);
        const record = JSON.parse((await run.cli(['incident', 'show', opened.id, '--json'])).stdout) as { rung: string; frozen: boolean; attempts: Record<string, number>; timeline: Array<{ text: string }> };
        assert.deepEqual([record.rung, record.frozen, record.attempts.R2, record.attempts.R3], ['R0', false, 0, 0], 'no freeze, restore or handoff for a network outage');
        assert.ok(record.timeline.some((e) => /lifeguard starts it again after waiting for the network/.test(e.text)), 'lifeguard, not the owner, started it');
        await api.waitForSent(RESCUE_BOT.name, OWNER.id, (m) => /rescue/.test(m.text) && /network/.test(m.text), { since: deafAt, timeoutMs: 90_000 });
        process.stderr.write(`# ${flavour}: rescue back and the alert in the owner's chat ${Math.round((Date.now() - backAt) / 1000)} s after the Bot API came back\n`);
        await run.waitForStatus('both healthy', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy', UP_DEADLINE_MS);
      });
    }

    it("the rescue bot's token appears nowhere in lifeguard's logs, outbox or incidents", () => {
      requireReady();
      const leaks: string[] = [];
      const scan = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) scan(path);
          else if (!/gateway-(main|rescue)/.test(name) && readFileSync(path, 'utf8').includes(RESCUE_BOT.token.split(':')[1]!)) leaks.push(path);
        }
      };
      scan(run.lifeguardHome);
      assert.deepEqual(leaks, []);
      assert.ok(api.calls.every((c) => c.method !== 'sendMessage' || c.status === 200), `a message was refused: ${JSON.stringify(api.calls.filter((c) => c.status !== 200))}`);
    });
  });
}


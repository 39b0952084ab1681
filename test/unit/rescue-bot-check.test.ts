import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelFactsOf, rescueChannelWarnings, telegramBotOf } from '../../src/config/gateway-channels.js';
import { tempDir } from '../helpers/temp-dir.js';

const MAIN_BOT = '6000000001:AAE_main_bot_token_000000000000000000';
const RESCUE_BOT = '7000000001:AAE_rescue_bot_token_0000000000000000';
const PATH = '/home/owner/.openclaw-rescue/openclaw.json';

async function warnings(rescueConfig: Record<string, unknown>, mainConfig: Record<string, unknown>, flavour: 'openclaw' | 'clawdbot' = 'openclaw', ownerIds: string[] = []) {
  const rescue = await channelFactsOf(rescueConfig, {});
  const main = await channelFactsOf(mainConfig, {});
  return rescueChannelWarnings({ ...rescue, configPath: PATH }, main, flavour, ownerIds);
}

describe('lifeguard check: the rescue bot', () => {
  const mainWithBot = { channels: { telegram: { botToken: MAIN_BOT } } };

  it('a rescue with its own bot and an owner: nothing to say', async () => {
    assert.deepEqual(await warnings({ channels: { telegram: { botToken: RESCUE_BOT } }, commands: { ownerAllowFrom: ['telegram:42'] } }, mainWithBot), []);
    assert.deepEqual(await warnings({ channels: { telegram: { botToken: RESCUE_BOT } } }, mainWithBot, 'clawdbot', ['telegram:42']), []);
  });

  it('warns when the rescue has no channel at all', async () => {
    const [only, ...rest] = await warnings({ gateway: { mode: 'local' } }, mainWithBot);
    assert.deepEqual(rest, []);
    assert.match(only ?? '', /^the rescue Gateway has no messaging channel \(channels in \/home\/owner\/\.openclaw-rescue\/openclaw\.json\)/);
    assert.deepEqual(await warnings({ channels: { telegram: { enabled: false, botToken: RESCUE_BOT } } }, {}), [only]);
  });

  it('warns when the rescue shares the main\'s bot token, wherever either names it', async () => {
    const dir = tempDir('lifeguard-rescue-check-');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${MAIN_BOT}\n`);
    const shared = await warnings(
      { channels: { telegram: { accounts: { phone: { tokenFile } } } }, commands: { ownerAllowFrom: ['telegram:42'] } },
      { channels: { telegram: { accounts: { default: { botToken: MAIN_BOT } } } } },
    );
    assert.equal(shared.length, 1);
    assert.match(shared[0]!, /^the rescue and the main use the same Telegram bot token: two pollers on one token steal each other's updates/);
    assert.ok(!shared[0]!.includes(MAIN_BOT), 'the token itself is never printed');
  });

  it('warns without an owner: OpenClaw reads the rescue config, Clawdbot lifeguard\'s chat.ownerIds', async () => {
    const rescue = { channels: { telegram: { botToken: RESCUE_BOT } } };
    assert.match((await warnings(rescue, mainWithBot, 'openclaw', ['telegram:42']))[0] ?? '', /set commands\.ownerAllowFrom: \["telegram:<your user id>"\] in \/home\/owner/);
    assert.match((await warnings(rescue, mainWithBot, 'clawdbot'))[0] ?? '', /set chat: \{ ownerIds: \['telegram:<your user id>'\] \} in lifeguard\.json5/);
  });

  it('the bot the gateway provider sends as: account first, then the channel, then TELEGRAM_BOT_TOKEN; ${VAR} substituted; apiRoot kept', async () => {
    const config = { channels: { telegram: { botToken: '${RESCUE_TOKEN}', apiRoot: 'http://127.0.0.1:9', accounts: { alt: { botToken: MAIN_BOT } } } } };
    assert.deepEqual(await telegramBotOf(config, { RESCUE_TOKEN: RESCUE_BOT }), { botToken: RESCUE_BOT, apiRoot: 'http://127.0.0.1:9' });
    assert.deepEqual(await telegramBotOf(config, {}, 'alt'), { botToken: MAIN_BOT, apiRoot: 'http://127.0.0.1:9' });
    assert.deepEqual(await telegramBotOf({ channels: { telegram: {} } }, { TELEGRAM_BOT_TOKEN: RESCUE_BOT }), { botToken: RESCUE_BOT, apiRoot: undefined });
    assert.equal(await telegramBotOf({}, { TELEGRAM_BOT_TOKEN: RESCUE_BOT }), undefined, 'no Telegram channel, no bot');
  });
});

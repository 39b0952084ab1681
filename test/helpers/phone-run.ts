/**
 * A lifeguard run whose rescue bot has a Telegram channel of its own on a loopback Bot API, for the phone
 * path's end-to-end test and benchmark. Run it inside a loopback-only namespace (netns.ts): OpenClaw is
 * pointed at the fake with `channels.telegram.apiRoot`; Clawdbot, which has no such key, with a test-only
 * fetch preload in its Gateway's and CLI's NODE_OPTIONS (telegram-preload.mjs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMinimalGatewayConfig } from '../../src/config/gateway-config.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveInstances } from '../../src/config/resolve-instances.js';
import { resolveGatewayRuntime } from '../../src/runtime/resolve.js';
import { FakeTelegram, visibleText, type SentMessage, type TelegramUser } from './fake-telegram.js';
import { LifeguardRun, runtimePaths, type Flavour } from './harness.js';

const PRELOAD = fileURLToPath(new URL('./telegram-preload.mjs', import.meta.url));
export const RESCUE_BOT = { name: 'rescue', id: 7_100_000_001, token: '7100000001:AAF_rescue_bot_token_for_the_e2e_tests' };
export const OWNER: TelegramUser = { id: 111_111_111, first_name: 'Owner', username: 'the_owner' };
export const STRANGER: TelegramUser = { id: 222_222_222, first_name: 'Stranger' };

export interface PhoneRun {
  readonly run: LifeguardRun;
  readonly api: FakeTelegram;
  /** `user` writes `text` to the rescue bot; resolves with the bot's first answer in that chat that `accept` takes. */
  say(user: TelegramUser, text: string, accept: (shown: string) => boolean, timeoutMs: number): Promise<{ shown: string; message: SentMessage; ms: number }>;
  stop(): Promise<void>;
}

/** What the Telegram channel of each flavour needs in the rescue's Gateway config. */
function rescueChannels(flavour: Flavour, apiRoot: string): Record<string, unknown> {
  const telegram = {
    enabled: true,
    botToken: RESCUE_BOT.token,
    dmPolicy: 'allowlist',
    allowFrom: [String(OWNER.id), String(STRANGER.id)],
    ...(flavour === 'openclaw' ? { apiRoot } : {}),
  };
  return {
    channels: { telegram },
    // OpenClaw's own owner verdict; Clawdbot has none (lifeguard's chat.ownerIds decides there).
    ...(flavour === 'openclaw' ? { commands: { ownerAllowFrom: [`telegram:${OWNER.id}`] } } : {}),
  };
}

/**
 * A fake Bot API with the rescue's bot, and a lifeguard run (not yet `up`) whose rescue Gateway config
 * names that bot and the owner, with the `gateway` provider as `phone` to the owner's chat, plus
 * `extraNotify` entries and `config` lines.
 */
export async function createPhoneRun(flavour: Flavour, options: { config?: readonly string[]; extraNotify?: string } = {}): Promise<PhoneRun> {
  const api = await FakeTelegram.start();
  api.addBot(RESCUE_BOT.name, RESCUE_BOT.token, RESCUE_BOT.id);
  const clawdbot = flavour === 'clawdbot';
  const run = await LifeguardRun.create({
    flavour,
    config: [
      ...(options.config ?? []),
      `  chat: { ownerIds: ['telegram:${OWNER.id}'] },`,
      `  notify: [{ type: 'gateway', name: 'phone', channel: 'telegram', target: '${OWNER.id}'${clawdbot ? `, apiRoot: '${api.apiRoot}'` : ''} }, ${options.extraNotify ?? ''}],`,
      `  gateway: { bin: '${runtimePaths(flavour).entry}' },`,
    ].join('\n'),
    ...(clawdbot ? { instanceConfig: { rescue: `env: { NODE_OPTIONS: '--import ${PRELOAD}', FAKE_TELEGRAM_API_FOR_TESTS: '${api.apiRoot}' }` } } : {}),
  });
  // The rescue's Gateway config, with its own bot, written before `up` (which keeps an existing one).
  const config = await loadConfig({ env: run.env, cwd: run.dir });
  const runtime = await resolveGatewayRuntime(config, { env: run.env, provision: false, progress: () => {} });
  const { rescue } = await resolveInstances(config, runtime.flavour);
  const gatewayConfig = { ...buildMinimalGatewayConfig({ flavour, port: rescue.port, workspace: rescue.workspace, logFile: rescue.logFile }), ...rescueChannels(flavour, api.apiRoot) };
  mkdirSync(dirname(rescue.configPath), { recursive: true });
  writeFileSync(rescue.configPath, `${JSON.stringify(gatewayConfig, null, 2)}\n`, { mode: 0o600 });
  return {
    run,
    api,
    async say(user, text, accept, timeoutMs) {
      const since = Date.now();
      api.userSays(RESCUE_BOT.name, user, text);
      const message = await api.waitForSent(RESCUE_BOT.name, user.id, (m) => accept(visibleText(m)), { since, timeoutMs });
      return { shown: visibleText(message), message, ms: message.at - since };
    },
    async stop() {
      await run.teardown();
      run.remove();
      await api.stop();
    },
  };
}

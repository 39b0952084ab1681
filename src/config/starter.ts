import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The config `lifeguard up` writes when there is none: every line commented out, so it means the built-in
 * defaults, and the owner only has to uncomment and fill in an alert destination.
 */
export const STARTER_CONFIG = `// lifeguard config (JSON5: comments and trailing commas are fine). Every setting: docs/configuration.md
// The running supervisor applies edits of this file within seconds, without a restart (notify, probes,
// restarts, chat, repair); \`npx lifeguard status\` says which edits wait for a restart.
{
  // Where alerts go (docs/notifications.md). Uncomment one, then send a test: npx lifeguard notify test
  notify: [
    // { type: 'webhook', url: 'https://example.com/hooks/lifeguard' },
    // { type: 'ntfy', topic: 'pick-a-long-random-topic' },
    // { type: 'telegram', botToken: '123456:ABC...', chatId: '123456789' },
    // { type: 'gateway', channel: 'telegram', to: '123456789' },  // through the rescue bot's own channel
  ],

  // The two Gateways (changing these needs the Gateways restarted: npx lifeguard status says so).
  // instances: {
  //   main: { port: 18789 },
  //   rescue: { port: 19789 },
  // },

  // How the main is watched.
  // probes: { intervalMs: 2000, failureThreshold: 3 },

  // Sender ids allowed to change things with /lifeguard in the rescue bot's chat (Clawdbot), e.g. 'telegram:123456789'.
  // chat: { ownerIds: [] },
}
`;

/** Writes the starter config at `path` unless a file is there already (never overwrites); true if written. */
export async function writeStarterConfig(path: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 0600: the file will hold webhook URLs and bot tokens.
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(STARTER_CONFIG);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

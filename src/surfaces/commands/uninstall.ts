import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { INSTANCE_NAMES } from '../../config/names.js';
import { UserError } from '../../core/errors.js';
import { uninstallService } from './service.js';
import { loadCommandContext } from './command-context.js';
import { loadCommandConfig, stderr } from './context.js';
import { EXIT } from './exit-codes.js';

export interface UninstallOptions {
  readonly runtime?: boolean;
  readonly state?: boolean;
  readonly gatewayData?: boolean;
  readonly yesDeleteGatewayData?: boolean;
}

/** lifeguard's own files in $LIFEGUARD_HOME that `--state` deletes; the owner's lifeguard.json5 and the runtime are not among them. */
const KEPT = new Set(['lifeguard.json5', 'runtime']);

export async function uninstall(options: UninstallOptions, stopStack: () => Promise<number>): Promise<number> {
  const settings = await loadCommandConfig({ tolerant: true });
  // Resolved before anything is stopped, so that a refusal changes nothing.
  const ctx = options.gatewayData ? await loadCommandContext({ settings, snapshotFallback: true }) : undefined;
  const dirs = ctx ? [...new Set(INSTANCE_NAMES.map((name) => ctx.instances[name].stateDir))] : [];
  if (options.gatewayData && !options.yesDeleteGatewayData) {
    throw new UserError([
      "--gateway-data deletes both Gateways' own folders, with their configs, credentials, chats and workspaces:",
      ...dirs.map((dir) => `  ${dir}`),
      'Nothing was removed. To go ahead, ask twice: npx lifeguard uninstall --gateway-data --yes-delete-gateway-data',
    ].join('\n'), EXIT.refused);
  }
  await uninstallService();
  const stopped = await stopStack();
  if (stopped !== 0) stderr('PM2 did not remove every app (see above); going on.');
  const removed: string[] = [];
  if (options.runtime) {
    await rm(join(settings.home, 'runtime'), { recursive: true, force: true });
    removed.push(join(settings.home, 'runtime'));
  }
  if (options.state) {
    for (const name of await readdir(settings.home).catch(() => [] as string[])) {
      if (KEPT.has(name)) continue;
      await rm(join(settings.home, name), { recursive: true, force: true });
      removed.push(join(settings.home, name));
    }
  }
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  stderr(removed.length > 0 ? `Removed:\n${removed.map((path) => `  ${path}`).join('\n')}` : 'The apps are removed; files were kept (see --runtime, --state, --gateway-data).');
  if (!options.gatewayData) stderr("The Gateways' own configs and state were kept.");
  return stopped === 0 ? EXIT.ok : EXIT.failed;
}

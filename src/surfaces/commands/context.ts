import { hostname } from 'node:os';
import { appNameOf } from '../../config/instance.js';
import { resolveLifeguardHome, resolveUserHome } from '../../config/home.js';
import { loadConfig, parseConfig, type LifeguardConfig } from '../../config/load.js';
import { INSTANCE_NAMES, type InstanceName } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { queueAlert } from '../../notify/dispatcher.js';
import { Outbox } from '../../notify/outbox.js';
import { resolveProviders } from '../../notify/registry.js';
import type { Alert } from '../../notify/types.js';
import { trackSecrets } from '../../secrets/sources.js';
import { listPm2Apps } from '../../pm2/rpc-list.js';
import { EXIT } from './exit-codes.js';
import { stderr } from './output.js';

export { printJson, stderr, stdout } from './output.js';

/**
 * The lifeguard config for a command. With `tolerant` (the commands an owner reaches for when something is
 * wrong: diagnose, restart, logs, config, incidents), a broken lifeguard.json5 does not stop the command:
 * it warns, and goes on with the built-in defaults and the ports the Gateways actually run on.
 */
export async function loadCommandConfig(options: { tolerant?: boolean } = {}): Promise<LifeguardConfig> {
  const where = { env: process.env, cwd: process.cwd() };
  try {
    const config = await loadConfig(where);
    // The secrets of every config the settings name become known to the redactor.
    trackSecrets(config);
    return config;
  } catch (error) {
    if (!options.tolerant || !(error instanceof UserError)) throw error;
    const fallback = await defaultsWithRunningPorts(where.env);
    stderr(`Warning: ${error.message}\nGoing on with the built-in defaults and the ports the Gateways run on until the file is fixed.`);
    trackSecrets(fallback);
    return fallback;
  }
}

async function defaultsWithRunningPorts(env: NodeJS.ProcessEnv): Promise<LifeguardConfig> {
  const userHome = resolveUserHome(env);
  const defaults = parseConfig({}, { source: undefined, home: resolveLifeguardHome(env, userHome), userHome, env });
  const apps = await listPm2Apps(env).catch(() => undefined);
  const portOf = (name: InstanceName) => apps?.find((app) => app.name === appNameOf(name))?.port ?? defaults.instances[name].port;
  return { ...defaults, instances: { main: { ...defaults.instances.main, port: portOf('main') }, rescue: { ...defaults.instances.rescue, port: portOf('rescue') } } };
}

export function instanceArg(value: string | undefined): InstanceName {
  const name = value ?? 'main';
  if (!(INSTANCE_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown instance "${name}"; use main or rescue`, EXIT.usage);
  return name as InstanceName;
}

/** Who ran a command, for the audit trail in the incident. */
export function actor(by: string | undefined): string {
  return by ?? `${process.env.USER ?? process.env.LOGNAME ?? 'someone'} (cli)`;
}

/**
 * Queues alerts a command produced (a resolve) in the outbox; the supervisor sends them within seconds,
 * or at its next start when it is not running.
 */
export async function queueFromCommand(config: LifeguardConfig, alerts: readonly Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  const { providers } = resolveProviders(config.notify);
  const outbox = new Outbox(config.home);
  for (const alert of alerts) await queueAlert(outbox, providers, alert, Date.now());
}

export const host = hostname();

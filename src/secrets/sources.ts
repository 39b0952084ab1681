import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import JSON5 from 'json5';
import { parseDotEnv } from '../config/gateway-env.js';
import { plannedPaths } from '../config/instance.js';
import type { LifeguardConfig } from '../config/load.js';
import { FLAVOURS, INSTANCE_NAMES } from '../config/schema.js';
import { resolveProviders } from '../notify/registry.js';
import { secretValuesOf, secretValuesOfText } from '../snapshots/redact-config.js';
import { processSecrets, type SecretRegistry, type SecretSource } from './registry.js';
import { secretEnvValues } from './vocabulary.js';

/** What a Gateway's secrets are read from. */
export interface GatewaySecretFiles {
  readonly name: string;
  readonly configPath: string;
  readonly stateDir: string;
  /** The variables lifeguard passes it (`instances.<name>.env`); its `.env` is read from `stateDir`. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * A Gateway's config (every value under a secret key or `headers`, `${VAR}`s resolved as the Gateway
 * would) and its environment (`.env` and lifeguard's `env` for it: secret-named or generated-looking values).
 */
export function gatewaySecretSource(gateway: GatewaySecretFiles): SecretSource {
  const dotEnvPath = join(gateway.stateDir, '.env');
  return {
    id: `gateway:${gateway.name}`,
    files: [gateway.configPath, dotEnvPath],
    collect: () => {
      const env = { ...parseDotEnv(readIfExists(dotEnvPath)), ...gateway.env };
      return [...configSecrets(readIfExists(gateway.configPath), env), ...secretEnvValues(env)];
    },
  };
}

/**
 * lifeguard's own config: values under secret keys in the file as it is now, and what its providers
 * declare secret (webhook URLs, Apprise URLs, bot tokens, SMTP passwords), the heartbeat URL (it is the
 * credential of a healthchecks-style check) and the variables it passes the Gateways.
 */
export function lifeguardSecretSource(config: LifeguardConfig): SecretSource {
  const declared = [
    ...resolveProviders(config.notify).providers.flatMap((provider) => provider.secrets),
    ...(config.heartbeat.url ? [config.heartbeat.url] : []),
    ...INSTANCE_NAMES.flatMap((name) => secretEnvValues(config.instances[name].env)),
  ];
  const source = config.source;
  return {
    id: 'lifeguard',
    files: source ? [source] : [],
    collect: () => [...declared, ...(source ? configSecrets(readIfExists(source), {}) : [])],
  };
}

/**
 * Tracks every source the settings name: lifeguard's config and both Gateways'. With `gateway.flavour:
 * auto` the paths of both flavours are tracked: one that does not exist adds nothing, and the caller
 * need not find the installed Gateway first.
 */
export function trackSecrets(config: LifeguardConfig, registry: SecretRegistry = processSecrets): void {
  registry.track(lifeguardSecretSource(config));
  const flavours = config.gateway.flavour === 'auto' ? FLAVOURS : [config.gateway.flavour];
  for (const flavour of flavours) {
    for (const name of INSTANCE_NAMES) {
      const spec = config.instances[name];
      const { configPath, stateDir } = plannedPaths(spec, flavour, config.userHome);
      registry.track(gatewaySecretSource({ name: `${name}:${flavour}`, configPath, stateDir, env: spec.env }));
    }
  }
}

function configSecrets(text: string, env: Readonly<Record<string, string>>): string[] {
  if (text.trim() === '') return [];
  try {
    return secretValuesOf(JSON5.parse(text), env);
  } catch {
    return secretValuesOfText(text);
  }
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') return '';
    throw error;
  }
}

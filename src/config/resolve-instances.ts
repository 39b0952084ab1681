import { UserError } from '../core/errors.js';
import type { LifeguardConfig } from './load.js';
import { readGatewayConfig, type GatewayConfigFacts } from './gateway-config.js';
import { loadGatewayEnv } from './gateway-env.js';
import { plannedPaths, resolveInstance, type ResolvedInstance } from './instance.js';
import { INSTANCE_NAMES, type Flavour, type InstanceName } from './schema.js';

export type ResolvedInstances = Readonly<Record<InstanceName, ResolvedInstance>>;

/**
 * Facts to go on when a Gateway config cannot be read (a syntax error while the Gateway still runs on
 * the config it loaded): the supervisor must keep watching, so it falls back instead of refusing.
 */
export type UnreadableConfigFallback = (name: InstanceName, error: string) => Promise<GatewayConfigFacts>;

/**
 * Reads both Gateway configs and settles every path, port and token. A Gateway config that is not JSON5
 * stops here, unless a fallback supplies the facts.
 */
export async function resolveInstances(config: LifeguardConfig, flavour: Flavour, fallback?: UnreadableConfigFallback): Promise<ResolvedInstances> {
  const entries: Array<[InstanceName, ResolvedInstance]> = [];
  const problems: string[] = [];
  for (const name of INSTANCE_NAMES) {
    const spec = config.instances[name];
    const { configPath, stateDir } = plannedPaths(spec, flavour, config.userHome);
    const read = await readGatewayConfig(configPath, await loadGatewayEnv(stateDir, spec.env));
    if (!read.ok && fallback) {
      entries.push([name, resolveInstance(spec, flavour, config.userHome, await fallback(name, read.error))]);
      continue;
    }
    if (!read.ok) {
      problems.push(`- ${name}: ${read.error}.\n  Fix: repair that file (or move it away so lifeguard writes a fresh minimal one).`);
      continue;
    }
    entries.push([name, resolveInstance(spec, flavour, config.userHome, read.facts)]);
  }
  if (problems.length > 0) throw new UserError(`Cannot use the Gateway config:\n${problems.join('\n')}`);
  return Object.fromEntries(entries) as Record<InstanceName, ResolvedInstance>;
}

export type { GatewayConfigFacts };

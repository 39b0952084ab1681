import JSON5 from 'json5';
import { extractFacts, type GatewayConfigFacts } from '../config/gateway-config.js';
import { loadGatewayEnv } from '../config/gateway-env.js';
import { plannedPaths } from '../config/instance.js';
import type { LifeguardConfig } from '../config/load.js';
import type { Flavour, InstanceName } from '../config/schema.js';
import { latestSnapshot } from './store.js';

/**
 * The Gateway config facts (token, workspace, log file) from the newest snapshot, for when the config on
 * disk does not even parse: that is exactly when lifeguard must keep watching and repairing, and the
 * still-running Gateway most likely loaded the snapshot's content.
 */
export async function factsFromNewestSnapshot(config: LifeguardConfig, flavour: Flavour, name: InstanceName): Promise<GatewayConfigFacts> {
  const snapshot = await latestSnapshot(config.home, name).catch(() => undefined);
  let parsed: unknown;
  try {
    parsed = snapshot ? JSON5.parse(snapshot.content) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { exists: true, pinnedEndpoints: [] };
  const { stateDir } = plannedPaths(config.instances[name], flavour, config.userHome);
  return extractFacts(parsed as Record<string, unknown>, await loadGatewayEnv(stateDir, config.instances[name].env));
}

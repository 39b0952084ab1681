import type { ResolvedInstance } from '../../config/instance.js';
import type { LifeguardConfig } from '../../config/load.js';
import type { InstanceName } from '../../config/schema.js';
import { probeConfigValidity, readConfigFile, secretsFor, type ConfigVerdict } from '../../guard/validate-config.js';
import { gatewayEnvOf } from '../../pm2/apps.js';
import type { GatewayRuntime } from '../../runtime/resolve.js';
import { loadCommandContext } from '../commands/command-context.js';

/** The instance a repair command works on, settled without the supervisor. */
export interface RepairTarget {
  readonly settings: LifeguardConfig;
  readonly instance: ResolvedInstance;
  /** Undefined when no Gateway is installed: validation then cannot run, everything else still works. */
  readonly runtime: GatewayRuntime | undefined;
  readonly runtimeProblem: string | undefined;
  /** Values never to print: the Gateway token and secret-named variables of its environment. */
  readonly secrets: readonly string[];
}

/**
 * Settles the instance as the supervisor does; an unparseable Gateway config (exactly when a repair is
 * needed) falls back to the newest snapshot's facts, and a broken lifeguard.json5 to the defaults.
 */
export async function resolveTarget(name: InstanceName, settings?: LifeguardConfig): Promise<RepairTarget> {
  const context = await loadCommandContext({ ...(settings ? { settings } : {}), tolerant: true, snapshotFallback: true });
  const instance = context.instances[name];
  const secrets = await secretsFor({ flavour: context.flavour, env: envOf(context.settings, instance, context.runtime), configPath: instance.configPath }, undefined, [instance.token]);
  return { settings: context.settings, instance, runtime: context.runtime, runtimeProblem: context.runtimeProblem, secrets };
}

export function envOf(settings: LifeguardConfig, instance: ResolvedInstance, runtime: GatewayRuntime | undefined): Record<string, string> {
  return runtime ? gatewayEnvOf(instance, { runtime, userHome: settings.userHome, lifeguardHome: settings.home }) : { ...instance.extraEnv };
}

export const endpointOf = (instance: ResolvedInstance) => ({ url: `ws://127.0.0.1:${instance.port}`, token: instance.token });

/** The config guard's validation, run now: JSON5 first, then the running Gateway's `config.get` or its CLI. */
export async function validateTarget(target: RepairTarget): Promise<ConfigVerdict> {
  const { settings, instance, runtime } = target;
  if (!runtime) {
    // Without a Gateway to ask, what the file alone shows is still worth saying.
    const file = await readConfigFile(instance.configPath);
    if (file.state === 'missing') return { valid: false, hash: null, kind: 'missing', issues: [`${instance.configPath} does not exist`], via: 'file' };
    if (file.state === 'syntax') return { valid: false, hash: file.hash, kind: 'syntax', issues: [file.issue], via: 'json5' };
    return { valid: 'unknown', hash: file.state === 'parsed' ? file.hash : null, detail: `cannot run the Gateway's validator: ${target.runtimeProblem ?? 'no Gateway installed'}` };
  }
  return probeConfigValidity({
    configPath: instance.configPath, flavour: instance.flavour, runtime, env: envOf(settings, instance, runtime), gateway: endpointOf(instance),
  }, { timeoutMs: settings.guard.validateTimeoutMs });
}

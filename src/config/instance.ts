import { dirname, join } from 'node:path';
import type { InstanceSpec } from './load.js';
import type { GatewayConfigFacts } from './gateway-config.js';
import {
  resolveGatewayConfigPath, resolveStateDir, sharedDefaultLogFile, FLAVOUR_NAMES,
} from './paths.js';
import type { Flavour, InstanceName } from './schema.js';

/** One Gateway instance with every path and port settled: what PM2 runs and what the probes target. */
export interface ResolvedInstance {
  readonly name: InstanceName;
  readonly appName: string;
  readonly flavour: Flavour;
  readonly profile: string;
  readonly port: number;
  readonly configPath: string;
  readonly stateDir: string;
  readonly workspace: string;
  readonly logFile: string;
  readonly token: string | undefined;
  readonly gatewayConfigExists: boolean;
  readonly bonjour: boolean;
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly pinnedEndpoints: GatewayConfigFacts['pinnedEndpoints'];
}

export function appNameOf(instance: InstanceName): string {
  return `gateway-${instance}`;
}

/** The paths an instance gets before its Gateway config exists (and so before lifeguard writes one). */
export function plannedPaths(spec: InstanceSpec, flavour: Flavour, userHome: string) {
  const stateDir = spec.stateDir ?? (spec.configPath ? dirname(spec.configPath) : resolveStateDir(flavour, spec.profile, userHome));
  const configPath = spec.configPath ?? resolveGatewayConfigPath(flavour, stateDir);
  return {
    stateDir,
    configPath,
    newWorkspace: spec.workspace ?? FLAVOUR_NAMES[flavour].defaultWorkspace(userHome, stateDir, spec.profile),
    newLogFile: spec.logFile ?? join(stateDir, 'logs', 'gateway.jsonl'),
  };
}

/**
 * Settles an instance the way the Gateway itself will see it: paths and port from lifeguard's settings
 * (it passes them to the Gateway), workspace and log file from the Gateway config's own keys, else the
 * flavour's defaults for the profile.
 */
export function resolveInstance(
  spec: InstanceSpec,
  flavour: Flavour,
  userHome: string,
  facts: GatewayConfigFacts,
): ResolvedInstance {
  const planned = plannedPaths(spec, flavour, userHome);
  // lifeguard's workspace/logFile settings only shape a Gateway config it writes; once one exists,
  // the Gateway reads its own keys, so those are what isolation is about.
  const workspace = facts.exists
    ? facts.workspace ?? FLAVOUR_NAMES[flavour].defaultWorkspace(userHome, planned.stateDir, spec.profile)
    : planned.newWorkspace;
  const logFile = facts.exists ? facts.logFile ?? sharedDefaultLogFile(flavour) : planned.newLogFile;
  return {
    name: spec.name,
    appName: appNameOf(spec.name),
    flavour,
    profile: spec.profile,
    port: spec.port,
    configPath: planned.configPath,
    stateDir: planned.stateDir,
    workspace,
    logFile,
    token: facts.token,
    gatewayConfigExists: facts.exists,
    bonjour: spec.bonjour,
    extraEnv: spec.env,
    pinnedEndpoints: facts.pinnedEndpoints,
  };
}

import type { LifeguardConfig } from '../../config/load.js';
import { resolveInstances, type ResolvedInstances } from '../../config/resolve-instances.js';
import type { Flavour } from '../../config/schema.js';
import { errorMessage } from '../../core/errors.js';
import { factsFromNewestSnapshot } from '../../snapshots/facts.js';
import { defaultFlavour, resolveGatewayRuntime, type GatewayRuntime } from '../../runtime/resolve.js';
import { loadCommandConfig } from './context.js';

/** What most commands start from: settings, the installed Gateway (if any), its flavour, both instances. */
export interface CommandContext {
  readonly settings: LifeguardConfig;
  /** Undefined when no Gateway is installed: validation then cannot run, everything else still works. */
  readonly runtime: GatewayRuntime | undefined;
  readonly runtimeProblem: string | undefined;
  readonly flavour: Flavour;
  readonly instances: ResolvedInstances;
}

export interface ContextOptions {
  /** Settings already loaded (a command that needed them first, e.g. for the repair lock). */
  readonly settings?: LifeguardConfig;
  /** Go on with defaults when lifeguard.json5 is broken (see loadCommandConfig). */
  readonly tolerant?: boolean;
  /**
   * A Gateway config that is not even JSON5 (exactly when a repair is needed) does not stop repair
   * commands: the token and paths then come from the newest snapshot, which is what the still-running
   * Gateway most likely loaded. Without this, such a config is an error (check, notify).
   */
  readonly snapshotFallback?: boolean;
}

/** The one "runtime → flavour → instances" opening every command shares; it never installs anything. */
export async function loadCommandContext(options: ContextOptions = {}): Promise<CommandContext> {
  const settings = options.settings ?? await loadCommandConfig({ tolerant: options.tolerant === true });
  let runtimeProblem: string | undefined;
  const runtime = await resolveGatewayRuntime(settings, { env: process.env, provision: false, progress: () => {} })
    .catch((error: unknown) => { runtimeProblem = errorMessage(error); return undefined; });
  const flavour = runtime?.flavour ?? defaultFlavour(settings);
  const instances = await resolveInstances(settings, flavour, options.snapshotFallback ? (name) => factsFromNewestSnapshot(settings, flavour, name) : undefined);
  return { settings, runtime, runtimeProblem, flavour, instances };
}

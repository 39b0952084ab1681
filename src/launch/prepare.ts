import { fileURLToPath } from 'node:url';
import { loadConfig, locateConfigFile, resolveLifeguardHome, resolveUserHome, starterConfigPath, type LifeguardConfig } from '../config/load.js';
import { recordConfigInEffect } from '../config/in-effect.js';
import { writeStarterConfig } from '../config/starter.js';
import { withProgress } from './progress.js';
import { ensureGatewayConfig } from '../config/gateway-config.js';
import { resolveInstances, type ResolvedInstances } from '../config/resolve-instances.js';
import { INSTANCE_NAMES } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { findPortHolders } from '../isolation/port-holders.js';
import { findIsolationProblems, findProbeProblems, findTakenPorts, formatProblems, type IsolationProblem } from '../isolation/rules.js';
import { derivedPortRanges } from '../isolation/ports.js';
import { buildApps, type Pm2App } from '../pm2/apps.js';
import { installSkill } from '../handoff/skill.js';
import { installPlugin } from '../handoff/plugin.js';
import { pm2Home } from '../actions/pm2.js';
import { securePrivatePaths } from './private-paths.js';
import { defaultFlavour, resolveGatewayRuntime, type GatewayRuntime } from '../runtime/resolve.js';

export interface LaunchPlan {
  readonly config: LifeguardConfig;
  readonly runtime: GatewayRuntime;
  readonly instances: ResolvedInstances;
  readonly apps: Pm2App[];
}

export interface PrepareOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly progress: (line: string) => void;
  /** Install the pinned Gateway if none is found. */
  readonly provision: boolean;
}

/** Every isolation problem between the two instances, including ports a foreign process already holds. */
export async function checkIsolation(instances: ResolvedInstances): Promise<IsolationProblem[]> {
  const problems = findIsolationProblems(instances.main, instances.rescue);
  const ports = INSTANCE_NAMES.flatMap((name) => derivedPortRanges(instances[name].port).filter((r) => r.first === r.last).map((r) => r.first));
  const holders = await findPortHolders(ports);
  for (const name of INSTANCE_NAMES) problems.push(...findTakenPorts(instances[name], holders), ...findProbeProblems(instances[name]));
  return problems;
}

/**
 * Everything that must hold before PM2 starts anything: a valid config, a Gateway to run, two isolated
 * instances. Only then are missing Gateway configs written; an existing one is never touched.
 */
export async function prepareLaunch(options: PrepareOptions): Promise<LaunchPlan> {
  await ensureConfigFile(options);
  const config = await loadConfig({ env: options.env, cwd: options.cwd });
  // Check before installing anything: a refused config should not cost a Gateway download first.
  const installed = await resolveGatewayRuntime(config, { env: options.env, provision: false, progress: options.progress })
    .catch((error: unknown) => {
      if (!options.provision) throw error;
      return undefined;
    });
  const flavour = installed?.flavour ?? defaultFlavour(config);
  const planned = await resolveInstances(config, flavour);
  const problems = await checkIsolation(planned);
  if (problems.length > 0) throw new UserError(`${formatProblems(problems)}\nNothing was started.`);
  const runtime = installed ?? await resolveGatewayRuntime(config, { env: options.env, provision: true, progress: options.progress });
  for (const name of INSTANCE_NAMES) {
    const instance = planned[name];
    const outcome = await ensureGatewayConfig(instance.configPath, { flavour: runtime.flavour, port: instance.port, workspace: instance.workspace, logFile: instance.logFile });
    if (outcome === 'created') options.progress(`Wrote a minimal ${runtime.flavour} config for ${name}: ${instance.configPath} (mode 0600, loopback, token auth).`);
  }
  const instances = await resolveInstances(config, runtime.flavour);
  // The standing handoff: the rescue agent knows the repair commands before anything goes wrong.
  const skill = await installSkill(instances.rescue.workspace, config.home);
  if (skill.state === 'installed' || skill.state === 'updated') options.progress(`${skill.state === 'installed' ? 'Installed' : 'Updated'} the lifeguard skill for the rescue bot: ${skill.path}`);
  if (skill.state === 'kept-user-edit') options.progress(`The lifeguard skill at ${skill.path} was edited by hand; it is kept, and the new version is beside it as SKILL.md.lifeguard-new.`);
  // The /lifeguard chat command, on the rescue only.
  const plugin = await withProgress(options.progress, 'Installing the /lifeguard chat plugin in the rescue', () => installPlugin(instances.rescue, runtime, { userHome: config.userHome, lifeguardHome: config.home }), { quiet: true });
  if (plugin.changed || plugin.state !== 'current') options.progress(`/lifeguard chat plugin: ${plugin.detail}`);
  const apps = buildApps({
    runtime,
    instances,
    lifeguardHome: config.home,
    userHome: config.userHome,
    cliScript: fileURLToPath(new URL('../cli.js', import.meta.url)),
    superviseScript: fileURLToPath(new URL('../supervise.js', import.meta.url)),
    configSource: config.source,
    lifeguardNode: process.execPath,
    pm2Home: pm2Home(options.env),
    path: options.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    logLevel: options.env.LIFEGUARD_LOG_LEVEL,
  });
  await securePrivatePaths(config.home, apps.flatMap((app) => [app.out_file, app.error_file]));
  // Pinned into every app above; recorded so that commands run from any folder read the same file.
  if (config.source) await recordConfigInEffect(config.home, config.source);
  return { config, runtime, instances, apps };
}

/** A machine without a lifeguard config gets the commented starter in $LIFEGUARD_HOME; an existing file is never touched. */
async function ensureConfigFile(options: PrepareOptions): Promise<void> {
  const userHome = resolveUserHome(options.env);
  const home = resolveLifeguardHome(options.env, userHome);
  if (locateConfigFile(options.env, options.cwd, home, userHome) !== undefined) return;
  const path = starterConfigPath(home);
  if (await writeStarterConfig(path)) options.progress(`Wrote a starter lifeguard config (built-in defaults, no alert destination yet): ${path}`);
}

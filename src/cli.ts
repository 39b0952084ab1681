#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadConfig, loadConfigOrDefaults, strayConfigWarning } from './config/load.js';
import { resolveInstances } from './config/resolve-instances.js';
import { FLAVOURS, INSTANCE_NAMES, type Flavour } from './config/schema.js';
import { appNameOf, type ResolvedInstance } from './config/instance.js';
import { UserError, errorMessage } from './core/errors.js';
import { checkIsolation, prepareLaunch } from './launch/prepare.js';
import { formatProblems } from './isolation/rules.js';
import { connectPm2, isPm2DaemonRunning } from './actions/pm2.js';
import { readStatus } from './daemon/status-store.js';
import { resolveProviders } from './notify/registry.js';
import { pluginStatus } from './handoff/plugin.js';
import { runSupervisor } from './daemon/supervisor.js';
import { provisionRuntime } from './runtime/provision.js';
import { defaultFlavour, resolveGatewayRuntime, runtimeDir } from './runtime/resolve.js';
import { buildStatusView, renderStatus } from './surfaces/status-view.js';
import { registerChatCommand } from './surfaces/commands/chat.js';
import { registerConfigCommands } from './surfaces/commands/config.js';
import { registerIncidentCommands } from './surfaces/commands/incidents.js';
import { registerHandoffCommand } from './surfaces/commands/handoff.js';
import { registerNotifyCommands } from './surfaces/commands/notify.js';
import { registerPauseCommands } from './surfaces/commands/pause.js';
import { registerRepairCommands } from './surfaces/commands/repair.js';
import { LIFEGUARD_VERSION } from './version.js';
import { noAlertsWarning, renderWhatNext } from './launch/what-next.js';
import { ownerCommand } from './core/command-line.js';

const ecosystemFile = fileURLToPath(new URL('../ecosystem.config.cjs', import.meta.url));
const stderr = (line: string) => process.stderr.write(`${line}\n`);

function pm2Cli(args: readonly string[]): number {
  const pm2Bin = createRequire(import.meta.url).resolve('pm2/bin/pm2');
  // Discrete mode: no advertising banner and no version check over the network when the daemon starts.
  const result = spawnSync(process.execPath, [pm2Bin, ...args], { stdio: 'inherit', env: { ...process.env, PM2_DISABLE_VERSION_CHECK: process.env.PM2_DISABLE_VERSION_CHECK ?? '1', PM2_DISCRETE_MODE: 'true' } });
  return result.status ?? 1;
}

const program = new Command()
  .name('lifeguard')
  .description('Runs a main and a rescue OpenClaw/Clawdbot Gateway under PM2 and watches the main one.')
  .version(LIFEGUARD_VERSION)
  .showHelpAfterError()
  // Usage errors (unknown option, missing argument) exit 2 for every command, as the help of each says.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .hook('preAction', () => {
    const stray = strayConfigWarning(process.env, process.cwd());
    if (stray) stderr(`Warning: ${stray}`);
  });

program
  .command('up')
  .description('check isolation, install the Gateway if needed, and start both Gateways and the supervisor under PM2')
  .action(async () => {
    const plan = await prepareLaunch({ env: process.env, cwd: process.cwd(), progress: stderr, provision: true });
    // `pm2 start` on an app that already runs restarts it: start only what is not online.
    const pm2 = isPm2DaemonRunning() ? await connectPm2({ timeoutMs: 10_000 }) : undefined;
    const online = new Set((await pm2?.list() ?? []).filter((app) => app.status === 'online').map((app) => app.name));
    pm2?.close();
    const missing = plan.apps.map((app) => app.name).filter((name) => !online.has(name));
    const notify = resolveProviders(plan.config.notify);
    const whatNext = renderWhatNext({ configFile: plan.config.source, providers: notify.providers.map((p) => p.name), providerProblems: notify.problems });
    if (missing.length === 0) {
      stderr(`All three apps are already running; nothing was restarted. Use \`npx pm2 restart <app>\` to restart one.\n\n${whatNext}`);
      return;
    }
    const code = pm2Cli(['start', ecosystemFile, ...(missing.length < plan.apps.length ? ['--only', missing.join(',')] : [])]);
    if (code !== 0) throw new UserError('pm2 start failed; see its output above.', code);
    stderr(`\nStarted ${missing.join(', ')}.${missing.some((name) => name.startsWith('gateway-')) ? ' A Gateway takes 10-60 s to come up.' : ''}\n\n${whatNext}`);
  });

program
  .command('down')
  .description('stop and remove the three PM2 apps (Gateway configs and state are kept)')
  .action(() => {
    process.exitCode = pm2Cli(['delete', ...INSTANCE_NAMES.map(appNameOf), 'lifeguard']);
  });

program
  .command('ecosystem')
  .description('print the PM2 app declarations as JSON (used by ecosystem.config.cjs); refuses on isolation problems')
  .action(async () => {
    const plan = await prepareLaunch({ env: process.env, cwd: process.cwd(), progress: stderr, provision: true });
    process.stdout.write(`${JSON.stringify({ apps: plan.apps }, null, 2)}\n`);
  });

program
  .command('check')
  .description('the pre-start check: the two Gateways isolated (paths, ports, pinned endpoints) and reachable by the probes (token)')
  .option('--json', 'machine-readable output')
  .action(async (options: { json?: boolean }) => {
    const config = await loadConfig({ env: process.env, cwd: process.cwd() });
    const runtime = await resolveGatewayRuntime(config, { env: process.env, provision: false, progress: stderr }).catch(() => undefined);
    const flavour = runtime?.flavour ?? defaultFlavour(config);
    const instances = await resolveInstances(config, flavour);
    const problems = await checkIsolation(instances);
    // A broken alert entry does not stop anything (the other providers still work), but it is named here.
    const notify = resolveProviders(config.notify);
    const warnings = notify.problems.map((problem) => `alert provider skipped: ${problem}`);
    if (notify.providers.length === 0) warnings.push(noAlertsWarning(config.source));
    const plugin = await pluginStatus(instances.rescue);
    if (plugin.state !== 'current') warnings.push(`/lifeguard chat plugin ${plugin.state}: ${plugin.detail} (${ownerCommand('up')} installs it)`);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ok: problems.length === 0, flavour, problems, warnings, providers: notify.providers.map((p) => ({ name: p.name, type: p.type })), instances: INSTANCE_NAMES.map((n) => publicInstance(instances[n])) }, null, 2)}\n`);
    } else if (problems.length === 0) {
      process.stdout.write(`Pre-start check OK (${flavour}):\n${INSTANCE_NAMES.map((n) => describeInstance(instances[n])).join('\n')}\n`);
    } else {
      process.stdout.write(`${formatProblems(problems)}\n`);
    }
    if (!options.json) for (const warning of warnings) process.stdout.write(`Warning: ${warning}\n`);
    process.exitCode = problems.length === 0 ? 0 : 1;
  });

program
  .command('status')
  .description('state, reason, pid, port, PM2 status, restarts, last probe and uptime of each Gateway')
  .option('--json', 'machine-readable output')
  .action(async (options: { json?: boolean }) => {
    // A broken edit of the config must not blind status: it is named, and the supervisor's record is shown.
    const { config, error } = await loadConfigOrDefaults({ env: process.env, cwd: process.cwd() });
    if (error) stderr(`Warning: ${error}`);
    const daemon = await readStatus(config.home);
    const pm2 = isPm2DaemonRunning() ? await connectPm2({ timeoutMs: 5_000 }).catch(() => undefined) : undefined;
    const apps = pm2 ? await pm2.list().catch(() => undefined) : undefined;
    pm2?.close();
    const view = buildStatusView(daemon, apps, Date.now(), INSTANCE_NAMES.map((name) => ({ name, appName: appNameOf(name), port: config.instances[name].port })), config.source);
    process.stdout.write(options.json ? `${JSON.stringify(view, null, 2)}\n` : `${renderStatus(view)}\n`);
  });

registerIncidentCommands(program);
registerHandoffCommand(program);
registerPauseCommands(program);
registerConfigCommands(program);
registerNotifyCommands(program);
registerRepairCommands(program);
registerChatCommand(program);

program
  .command('supervise')
  .description('run the supervisor in the foreground (PM2 runs this as the `lifeguard` app)')
  .action(async () => {
    await runSupervisor(process.env, process.cwd());
  });

program
  .command('runtime')
  .description('install the pinned Gateway and its Node binary')
  .addOption(new Option('--flavour <flavour>', 'which Gateway').choices([...FLAVOURS]).default('openclaw'))
  .option('--dir <dir>', 'where to install (default: $LIFEGUARD_HOME/runtime/<flavour>)')
  .action(async (options: { flavour: Flavour; dir?: string }) => {
    const config = await loadConfig({ env: process.env, cwd: process.cwd() });
    const runtime = await provisionRuntime(options.dir ?? runtimeDir(config.home, options.flavour), options.flavour, stderr);
    process.stdout.write(`${JSON.stringify(runtime)}\n`);
  });

function publicInstance(i: ResolvedInstance) {
  return { name: i.name, profile: i.profile, port: i.port, configPath: i.configPath, stateDir: i.stateDir, workspace: i.workspace, logFile: i.logFile };
}

function describeInstance(i: ResolvedInstance): string {
  return `  ${i.name}: port ${i.port} (+2, +3, +4, +11..+110), config ${i.configPath}, state ${i.stateDir}, workspace ${i.workspace}, log ${i.logFile}`;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UserError) {
    stderr(error.message);
    process.exit(error.exitCode);
  }
  stderr(`lifeguard: ${errorMessage(error)}`);
  process.exit(70);
});

import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { connectPm2, isPm2DaemonRunning } from '../../actions/pm2.js';
import { pm2Cli } from '../../actions/pm2-cli.js';
import { appNameOf } from '../../config/instance.js';
import { FLAVOURS, INSTANCE_NAMES, type Flavour } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { prepareLaunch } from '../../launch/prepare.js';
import { renderWhatNext } from '../../launch/what-next.js';
import { resolveProviders } from '../../notify/registry.js';
import { LIFEGUARD_APP } from '../../pm2/apps.js';
import { listPm2Apps } from '../../pm2/rpc-list.js';
import { provisionRuntime } from '../../runtime/provision.js';
import { runtimeDir } from '../../runtime/resolve.js';
import { loadCommandConfig, stderr, stdout } from './context.js';
import { exitCodesHelp } from './exit-codes.js';

const ecosystemFile = fileURLToPath(new URL('../../../ecosystem.config.cjs', import.meta.url));
export const LIFEGUARD_APPS = [...INSTANCE_NAMES.map(appNameOf), LIFEGUARD_APP] as const;

/** A refusal before anything ran says so, whatever refused (the lifeguard config, a Gateway config, isolation). */
async function startingNothingOnRefusal<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((error: unknown) => {
    if (error instanceof UserError && !error.message.includes('Nothing was started.')) throw new UserError(`${error.message}\nNothing was started.`, error.exitCode);
    throw error;
  });
}

export function registerLifecycleCommands(program: Command): void {
  program
    .command('up')
    .description('check isolation, install the Gateway if needed, and start both Gateways and the supervisor under PM2')
    .action(async () => {
      const plan = await startingNothingOnRefusal(() => prepareLaunch({ env: process.env, cwd: process.cwd(), progress: stderr, provision: true }));
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
    .description("stop and remove the three PM2 apps, and stop the PM2 daemon when it runs nothing else (Gateway configs and state are kept)")
    .action(async () => {
      process.exitCode = await stopStack();
    });

  program
    .command('run')
    .description('run the whole stack in the foreground, PM2 included (pm2-runtime style), for Docker, systemd or a shell loop; stops everything on SIGTERM, and exits when its PM2 dies so that it is started again')
    .addHelpText('after', exitCodesHelp({ ok: 'stopped on request', failed: 'its PM2 died (start it again: the next run cleans up and tells the owner)', refused: 'it already runs, or under `npm start`\'s PM2 daemon' }))
    .action(async () => {
      const plan = await startingNothingOnRefusal(() => prepareLaunch({ env: process.env, cwd: process.cwd(), progress: stderr, provision: true }));
      const { runInForeground } = await import('./foreground.js');
      process.exitCode = await runInForeground(plan, ecosystemFile, LIFEGUARD_APPS);
    });

  const service = program.command('service').description('the boot service (systemd): starts the stack at boot and again whenever its PM2 dies');
  service
    .command('install')
    .description('install and start lifeguard.service, which runs `lifeguard run` (stops a stack started by `npm start` first); needs root and systemd')
    .option('--print', 'only print the unit file (to install it by hand)')
    .action(async (options: { print?: boolean }) => {
      const config = await loadCommandConfig();
      const { installService, unitFor } = await import('./service.js');
      if (options.print) stdout(unitFor(config));
      else await installService(config, stopStack);
    });
  service
    .command('uninstall')
    .description('stop and remove lifeguard.service (the Gateways stop with it)')
    .action(async () => {
      const { uninstallService } = await import('./service.js');
      if (!(await uninstallService())) stderr('No lifeguard.service is installed; nothing to remove.');
    });

  program
    .command('uninstall')
    .description("remove the boot service and the three PM2 apps (stopping PM2 if it runs nothing else); on request lifeguard's installed Gateways and its state; the Gateways' own configs and state only when asked twice")
    .option('--runtime', 'also delete the Gateways lifeguard installed ($LIFEGUARD_HOME/runtime)')
    .option('--state', "also delete lifeguard's state: incidents, alerts, snapshots, logs, events.jsonl (lifeguard.json5 is kept)")
    .option('--gateway-data', "also delete both Gateways' config and state folders (chats, credentials, workspaces inside them): asks for --yes-delete-gateway-data as well")
    .option('--yes-delete-gateway-data', 'the second ask for --gateway-data')
    .addHelpText('after', exitCodesHelp({ ok: 'removed', failed: 'a step failed (what was removed so far is said)', refused: '--gateway-data without --yes-delete-gateway-data: nothing was removed' }))
    .action(async (options: { runtime?: boolean; state?: boolean; gatewayData?: boolean; yesDeleteGatewayData?: boolean }) => {
      const { uninstall } = await import('./uninstall.js');
      process.exitCode = await uninstall(options, stopStack);
    });

  program
    .command('ecosystem')
    .description('print the PM2 app declarations as JSON (used by ecosystem.config.cjs); refuses on isolation problems')
    .action(async () => {
      const plan = await startingNothingOnRefusal(() => prepareLaunch({ env: process.env, cwd: process.cwd(), progress: stderr, provision: true }));
      process.stdout.write(`${JSON.stringify({ apps: plan.apps }, null, 2)}\n`);
    });

  program
    .command('supervise')
    .description('run the supervisor in the foreground (PM2 runs this as the `lifeguard` app)')
    .action(async () => {
      const { runSupervisor } = await import('../../daemon/supervisor.js');
      await runSupervisor(process.env, process.cwd());
    });

  program
    .command('runtime')
    .description('install the pinned Gateway and its Node binary')
    .addOption(new Option('--flavour <flavour>', 'which Gateway').choices([...FLAVOURS]).default('openclaw'))
    .option('--dir <dir>', 'where to install (default: $LIFEGUARD_HOME/runtime/<flavour>)')
    .action(async (options: { flavour: Flavour; dir?: string }) => {
      const config = await loadCommandConfig();
      const runtime = await provisionRuntime(options.dir ?? runtimeDir(config.home, options.flavour), options.flavour, stderr);
      process.stdout.write(`${JSON.stringify(runtime)}\n`);
    });
}

/**
 * Deletes lifeguard's three apps; then, when the PM2 daemon runs nothing else, stops it too (`npm stop`
 * used to leave an idle daemon behind). Someone else's apps keep their daemon.
 */
export async function stopStack(): Promise<number> {
  const before = await listPm2Apps();
  if (before === undefined) {
    stderr('The PM2 daemon is not running: nothing to stop.');
    return 0;
  }
  const ours = before.filter((app) => (LIFEGUARD_APPS as readonly string[]).includes(app.name)).map((app) => app.name);
  const code = ours.length > 0 ? pm2Cli(['delete', ...ours]) : 0;
  const others = before.filter((app) => !ours.includes(app.name));
  if (others.length > 0) {
    stderr(`The PM2 daemon keeps running for ${others.length} other app(s): ${others.map((app) => app.name).join(', ')}.`);
    return code;
  }
  return code === 0 ? pm2Cli(['kill']) : code;
}

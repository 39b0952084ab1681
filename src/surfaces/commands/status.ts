import type { Command } from 'commander';
import { appNameOf } from '../../config/instance.js';
import { resolveLifeguardHome, resolveUserHome } from '../../config/home.js';
import { INSTANCE_NAMES } from '../../config/names.js';
import { locateConfigFile } from '../../config/locate.js';
import { readStatus } from '../../daemon/status-store.js';
import { listPm2Apps } from '../../pm2/rpc-list.js';
import { buildStatusView, renderStatus } from '../status-view.js';
import { printJson, stdout } from './output.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('state, reason, pid, port, PM2 status, restarts, last probe and uptime of each Gateway')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      // What runs, from PM2 and the supervisor's record: no lifeguard config is read, so a typo in it cannot hide the state.
      const userHome = resolveUserHome(process.env);
      const home = resolveLifeguardHome(process.env, userHome);
      const [daemon, apps] = await Promise.all([readStatus(home), listPm2Apps(process.env)]);
      const configFile = locateConfigFile(process.env, process.cwd(), home, userHome);
      const view = buildStatusView(daemon, apps, Date.now(), INSTANCE_NAMES.map((name) => ({ name, appName: appNameOf(name) })), configFile);
      if (options.json) printJson(view);
      else stdout(renderStatus(view));
    });
}

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';
import type { LifeguardConfig } from '../../config/load.js';
import { systemdUnit, UNIT_NAME } from '../../launch/systemd-unit.js';
import { pm2Home } from '../../pm2/daemon.js';
import { stderr } from './output.js';
import { EXIT } from './exit-codes.js';

const UNIT_DIR = '/etc/systemd/system';
export const unitPath = join(UNIT_DIR, UNIT_NAME);
const CLI_SCRIPT = fileURLToPath(new URL('../../cli.js', import.meta.url));

export function hasSystemd(): boolean {
  return existsSync('/run/systemd/system');
}

/** The unit for this owner's stack: the same node, CLI, homes and config file as the shell it is run from. */
export function unitFor(config: LifeguardConfig, env: NodeJS.ProcessEnv = process.env): string {
  return systemdUnit({
    user: env.SUDO_USER ?? userInfo().username,
    node: process.execPath,
    cli: CLI_SCRIPT,
    workingDirectory: config.home,
    env: {
      HOME: config.userHome,
      PATH: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      PM2_HOME: pm2Home(env),
      LIFEGUARD_HOME: config.home,
      ...(config.source ? { LIFEGUARD_CONFIG: config.source } : {}),
    },
  });
}

function systemctl(args: readonly string[]): void {
  const result = spawnSync('systemctl', args, { stdio: 'inherit' });
  if (result.status !== 0) throw new UserError(`systemctl ${args.join(' ')} failed (exit ${result.status ?? result.signal}); see its output above.`, EXIT.failed);
}

function requireSystemd(): void {
  if (!hasSystemd()) {
    throw new UserError([
      'This machine does not run systemd, so there is no boot service to install.',
      'Run the stack in the foreground under whatever starts things here instead; it exits when its PM2 dies, to be started again:',
      '  Docker:      CMD ["npx", "lifeguard", "run"]  (with a restart policy, e.g. --restart unless-stopped)',
      '  shell loop:  while true; do npx lifeguard run; sleep 5; done',
      'Or print the unit to install by hand: npx lifeguard service install --print',
    ].join('\n'), EXIT.failed);
  }
  if (process.getuid?.() !== 0) throw new UserError(`Writing ${unitPath} needs root: run it with sudo -E (which keeps HOME, PM2_HOME and LIFEGUARD_* of your shell).`, EXIT.failed);
}

export async function installService(config: LifeguardConfig, stopDaemonStack: () => Promise<number>): Promise<void> {
  requireSystemd();
  // The unit runs PM2 itself: a PM2 daemon started by `npm start` would hold the same apps and ports.
  await stopDaemonStack();
  await writeFile(unitPath, unitFor(config), { mode: 0o644 });
  systemctl(['daemon-reload']);
  systemctl(['enable', '--now', UNIT_NAME]);
  stderr(`Installed ${unitPath}: systemd starts the whole stack at boot and again within 5 s whenever its PM2 dies. Watch with: npx lifeguard status`);
}

/** Removes the boot service if there is one; says whether there was. */
export async function uninstallService(): Promise<boolean> {
  if (!existsSync(unitPath)) return false;
  requireSystemd();
  systemctl(['disable', '--now', UNIT_NAME]);
  await rm(unitPath, { force: true });
  systemctl(['daemon-reload']);
  stderr(`Removed ${unitPath}; the stack is stopped.`);
  return true;
}

/** What the boot service runs, and as whom. */
export interface UnitSpec {
  readonly user: string;
  readonly node: string;
  readonly cli: string;
  readonly workingDirectory: string;
  /** HOME, PATH, PM2_HOME, LIFEGUARD_HOME and LIFEGUARD_CONFIG: the same stack as the owner's shell. */
  readonly env: Readonly<Record<string, string>>;
}

export const UNIT_NAME = 'lifeguard.service';

/** systemd's quoting: a word in double quotes, with `\`, `"` escaped and `%` doubled (specifiers). */
function quote(word: string): string {
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/**
 * The unit of `lifeguard service install`: systemd runs `lifeguard run` (PM2 in the foreground) and starts
 * it again whenever it ends: at boot, after a crash, and when the PM2 daemon dies (which ends `run`).
 */
export function systemdUnit(spec: UnitSpec): string {
  const env = Object.entries(spec.env).map(([key, value]) => `Environment=${quote(`${key}=${value}`)}`);
  return [
    '# Written by `lifeguard service install`; removed by `lifeguard service uninstall`.',
    '[Unit]',
    'Description=lifeguard: main and rescue OpenClaw Gateways under PM2, watched',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${spec.user}`,
    `WorkingDirectory=${quote(spec.workingDirectory)}`,
    ...env,
    `ExecStart=${quote(spec.node)} ${quote(spec.cli)} run`,
    'Restart=always',
    'RestartSec=5',
    // `run` stops PM2 and the Gateways itself on SIGTERM; the Gateways drain for up to 20 s each.
    'KillMode=mixed',
    'TimeoutStopSec=90',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

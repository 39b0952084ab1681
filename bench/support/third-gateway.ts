/**
 * A third OpenClaw Gateway cold-starting beside the two under test, outside PM2 and lifeguard: a copy of
 * the main's config in a fresh state dir under the run's HOME (so the harness's teardown also removes
 * its /tmp lock files), on its own free port, in its own process group.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pickFreeBasePorts, runtimePaths, type LifeguardRun } from '../../test/helpers/harness.js';
import { listeningPortsOf } from '../../test/helpers/processes.js';
import { groupLeader } from '../../test/helpers/process-group.js';

export interface ThirdGateway {
  readonly pid: number;
  readonly port: number;
  /** Milliseconds from spawn until it listened on its port, once it has. */
  listeningAfterMs(): number | undefined;
  /** SIGTERM to its group, SIGKILL after 5 s. */
  kill(): Promise<void>;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function startThirdGateway(run: LifeguardRun, name: string): Promise<ThirdGateway> {
  const runtime = runtimePaths('openclaw');
  const mainStateDir = join(run.home, '.openclaw');
  const stateDir = join(run.home, `.openclaw-${name}`);
  mkdirSync(stateDir, { recursive: true });
  const configPath = join(stateDir, 'openclaw.json');
  writeFileSync(configPath, readFileSync(join(mainStateDir, 'openclaw.json'), 'utf8').split(mainStateDir).join(stateDir));
  const [port] = await pickFreeBasePorts(1);
  const log = openSync(join(run.dir, `${name}.log`), 'a');
  const started = Date.now();
  const leader = groupLeader(spawn(runtime.node, [runtime.entry, 'gateway', '--port', String(port)], {
    cwd: stateDir,
    detached: true,
    stdio: ['ignore', log, log],
    env: {
      PATH: `${join(runtime.node, '..')}:${SYSTEM_PATH}`,
      HOME: run.home,
      NODE_ENV: 'production',
      NO_COLOR: '1',
      OPENCLAW_CONFIG_PATH: configPath,
      OPENCLAW_STATE_DIR: stateDir,
      OPENCLAW_GATEWAY_PORT: String(port),
      OPENCLAW_NO_RESPAWN: '1',
      OPENCLAW_DISABLE_BONJOUR: '1',
    },
  }));
  closeSync(log);
  const pid = leader.pid;
  let listeningAt: number | undefined;
  const watcher = setInterval(() => {
    if (listeningAt === undefined && listeningPortsOf(pid).includes(port!)) listeningAt = Date.now();
  }, 500);
  return {
    pid,
    port: port!,
    listeningAfterMs: () => (listeningAt === undefined ? undefined : listeningAt - started),
    kill: async () => {
      clearInterval(watcher);
      // Its state dir stays until the run is removed: the harness's teardown finds its /tmp lock files through it.
      await leader.stop(5_000);
    },
  };
}

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pm2Cli } from '../../actions/pm2-cli.js';
import { findLeftovers, stopLeftovers } from '../../launch/leftovers.js';
import type { LaunchPlan } from '../../launch/prepare.js';
import { clearRunRecord, readRunRecord, restartAlert, writeRunRecord } from '../../launch/run-record.js';
import { pm2DaemonPid, pm2Home } from '../../pm2/daemon.js';
import { listPm2Apps } from '../../pm2/rpc-list.js';
import { UserError } from '../../core/errors.js';
import { isAlive } from '../../core/process.js';
import { host, queueFromCommand, stderr } from './context.js';
import { EXIT } from './exit-codes.js';
import { ownerCommand } from '../../core/command-line.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * `lifeguard run`: PM2 in the foreground (`pm2-runtime`), all three apps in it, their logs on stdout.
 * A stop signal stops everything and exits 0; when PM2 itself dies, `run` records it and exits 1, so that
 * whatever runs it (systemd, Docker, a shell loop) starts it again: leftovers of the dead PM2 are stopped
 * first, and the owner is told what happened.
 */
export async function runInForeground(plan: LaunchPlan, ecosystemFile: string, apps: readonly string[]): Promise<number> {
  const home = plan.config.home;
  const previous = await readRunRecord(home);
  if (previous && isAlive(previous.pid)) throw new UserError(`lifeguard run already runs (pid ${previous.pid}); nothing was started.`, EXIT.refused);
  // pm2-runtime joins a PM2 daemon that already runs instead of being PM2 itself: there must be none.
  const daemon = pm2DaemonPid();
  if (daemon !== undefined) {
    const all = (await listPm2Apps()) ?? [];
    const ours = all.filter((app) => apps.includes(app.name));
    if (previous?.pm2Pid !== daemon && ours.length > 0) {
      throw new UserError(`lifeguard's apps already run under a PM2 daemon (${ours.map((app) => app.name).join(', ')}), started by \`npm start\`.\nFix: stop them with \`npx lifeguard down\`, then start \`${ownerCommand('run')}\` again. Nothing was started.`, EXIT.refused);
    }
    if (previous?.pm2Pid !== daemon && all.length > 0) {
      throw new UserError(`The PM2 daemon of ${pm2Home()} runs other apps (${all.map((app) => app.name).join(', ')}); \`lifeguard run\` must be its own PM2.\nFix: give lifeguard a PM2_HOME of its own. Nothing was started.`, EXIT.refused);
    }
    // The PM2 of a `run` that was killed itself, or an idle daemon: it is no one's now.
    stderr(`Stopping the PM2 daemon (pid ${daemon}) that runs nothing of anyone else's.`);
    pm2Cli(['kill']);
  }
  const leftovers = await findLeftovers(home);
  if (leftovers.length > 0) {
    stderr(`Stopping ${leftovers.length} process(es) a dead PM2 left behind (pids ${leftovers.join(', ')}).`);
    await stopLeftovers(leftovers);
  }
  const alert = restartAlert(previous, false, Date.now(), host);
  if (alert) {
    stderr(alert.summary);
    // The supervisor sends it as soon as it is up.
    await queueFromCommand(plan.config, [alert]);
  }

  const runtimeBin = createRequire(import.meta.url).resolve('pm2/bin/pm2-runtime');
  const child = spawn(process.execPath, [runtimeBin, 'start', ecosystemFile], {
    stdio: 'inherit',
    env: { ...process.env, PM2_DISABLE_VERSION_CHECK: process.env.PM2_DISABLE_VERSION_CHECK ?? '1' },
  });
  const startedAt = Date.now();
  await writeRunRecord(home, { pid: process.pid, pm2Pid: child.pid, startedAt });
  let stopping = false;
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      stopping = true;
      child.kill('SIGTERM');
    });
  }
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  });
  if (stopping) {
    await clearRunRecord(home);
    return EXIT.ok;
  }
  await writeRunRecord(home, { pid: process.pid, pm2Pid: child.pid, startedAt, pm2Died: { at: Date.now(), code, signal } });
  stderr(`lifeguard run: PM2 ended by itself (${signal ? `signal ${signal}` : `exit code ${code}`}); exiting so that the supervisor of this command starts it again.`);
  return EXIT.failed;
}

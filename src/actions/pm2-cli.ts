import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** Runs PM2's own CLI with this Node, its output shown to the user; returns its exit code. */
export function pm2Cli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const pm2Bin = createRequire(import.meta.url).resolve('pm2/bin/pm2');
  // Discrete mode: no advertising banner and no version check over the network when the daemon starts.
  const result = spawnSync(process.execPath, [pm2Bin, ...args], { stdio: 'inherit', env: { ...env, PM2_DISABLE_VERSION_CHECK: env.PM2_DISABLE_VERSION_CHECK ?? '1', PM2_DISCRETE_MODE: 'true' } });
  return result.status ?? 1;
}

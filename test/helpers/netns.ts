/**
 * Runs the calling test file inside a loopback-only network namespace (`unshare -n`, then
 * `ip link set lo up`; needs root, as CI has): OpenClaw pins a fallback IP for api.telegram.org, and
 * nothing a test starts may reach the outside. Everything the file then starts (lifeguard, the private
 * PM2 daemon, the Gateways) inherits the namespace.
 *
 * Call it at the top level of the test file, before any `describe`: outside the namespace it runs
 * `prepare` (what needs the network, e.g. provisioning the Gateways from npm), re-executes the same file
 * with the same Node flags inside a new namespace and exits with its status. The inner run inherits the
 * test runner's channel (stdout and NODE_TEST_CONTEXT), so the runner sees its tests as this file's.
 */
import { spawn } from 'node:child_process';

const INSIDE = 'LIFEGUARD_E2E_LOOPBACK_ONLY';

export async function reexecInLoopbackNamespace(prepare: () => Promise<void>): Promise<void> {
  if (process.env[INSIDE] === '1') return;
  await prepare();
  const argv = [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`cannot enter a loopback-only network namespace (unshare --net needs root): ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  process.exit(code);
}

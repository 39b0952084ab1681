/**
 * `npm run bench`: how fast lifeguard notices failures of a real OpenClaw Gateway, and what it costs
 * while idle. Default probe settings; only the restart budget and the crash-loop breaker are raised so
 * that ten deliberate faults in a row are all measured. Prints figures; asserts nothing.
 *
 *   SIGKILL of the main -> first `down`/`recovering` line in events.jsonl   (target <= 1 s)
 *   SIGSTOP of the main -> `down` line                                       (target <= 10 s)
 *   supervisor RSS and CPU while idle                                        (targets <= 60 MB, <= 1 % of a core)
 *   CPU time per probe cycle                                                 (target <= 5 ms)
 */
import { writeFileSync } from 'node:fs';
import { LifeguardRun, describeResult, provisionRuntime } from '../test/helpers/harness.js';
import { formatIdle, measureIdle } from './support/idle-figures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 60_000);

async function main(): Promise<void> {
  const run = await LifeguardRun.create({ flavour: 'openclaw' });
  try {
    writeFileSync(run.configFile, `{
  instances: { main: { port: ${run.ports.main}, bonjour: false }, rescue: { port: ${run.ports.rescue} } },
  restarts: { maxPerHour: 100, crashLoopExits: 100 },
}\n`);
    const provisioned = await provisionRuntime('openclaw', run.dir);
    if (provisioned.code !== 0) throw new Error(`provisioning failed:\n${describeResult(provisioned)}`);
    const up = await run.cli(['up'], 300_000);
    if (up.code !== 0) throw new Error(`lifeguard up failed:\n${describeResult(up)}`);
    const lines = [
      'lifeguard benchmark: real OpenClaw Gateway under PM2, default probe settings',
      ...formatIdle(await measureIdle(run, { runs: RUNS, idleMs: IDLE_MS })),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await run.teardown();
    run.remove();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

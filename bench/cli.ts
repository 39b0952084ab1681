/**
 * `npm run bench:cli`: wall time of the CLI commands an owner types, against a bare `node -e 0` in the same
 * run, with both Gateways and the supervisor up (a real OpenClaw under PM2, as in bench/detection.ts).
 * Median of BENCH_RUNS (5) rounds; each round runs every command once, so load changes hit all alike.
 * Prints figures; asserts nothing. Run it under `flock /tmp/lg-e2e.lock`.
 *
 *   lifeguard --version    target <= 0.25 s
 *   lifeguard status       target <= 0.35 s
 *   lifeguard diagnose main   target <= 3 s
 *
 * BENCH_CLI_BEFORE=/path/to/dist/cli.js also measures another build (e.g. the previous commit) in the same rounds.
 */
import { spawnSync } from 'node:child_process';
import { startProvisionedRun } from '../test/helpers/alerted-run.js';
import { LIFEGUARD_CLI, type LifeguardRun } from '../test/helpers/harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BEFORE = process.env.BENCH_CLI_BEFORE;

interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly targetS?: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function wallSeconds(args: readonly string[], run: LifeguardRun): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env: run.env, cwd: run.dir, stdio: 'ignore', timeout: 120_000 });
  const seconds = (performance.now() - started) / 1000;
  // diagnose exits 1 on anything but healthy; a crash (70) or a usage error (2) would make the figure meaningless.
  if (result.status === null || result.status === 2 || result.status === 70) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return seconds;
}

async function main(): Promise<void> {
  const { run, comeUp, teardown } = await startProvisionedRun({ flavour: 'openclaw' });
  try {
    await comeUp(240_000);

    const builds = [{ name: 'this build', cli: LIFEGUARD_CLI }, ...(BEFORE ? [{ name: 'before', cli: BEFORE }] : [])];
    const cases: Case[] = [{ label: 'node -e 0 (baseline)', args: ['-e', '0'] }];
    for (const build of builds) {
      cases.push(
        { label: `${build.name}: lifeguard --version`, args: [build.cli, '--version'], targetS: 0.25 },
        { label: `${build.name}: lifeguard status`, args: [build.cli, 'status'], targetS: 0.35 },
        { label: `${build.name}: lifeguard diagnose main`, args: [build.cli, 'diagnose', 'main'], targetS: 3 },
      );
    }
    // One warm-up round (file cache), not counted.
    for (const c of cases) wallSeconds(c.args, run);
    const samples = new Map<Case, number[]>(cases.map((c) => [c, []]));
    for (let round = 0; round < RUNS; round += 1) for (const c of cases) samples.get(c)!.push(wallSeconds(c.args, run));

    const baseline = median(samples.get(cases[0]!)!);
    const lines = [`lifeguard CLI wall time, median of ${RUNS}, both Gateways and the supervisor up (${new Date().toISOString()})`];
    for (const c of cases) {
      const m = median(samples.get(c)!);
      const ratio = c === cases[0] ? '' : `  ${(m / baseline).toFixed(2)}x baseline, +${(m - baseline).toFixed(2)} s`;
      lines.push(`${c.label.padEnd(42)} ${m.toFixed(3)} s${ratio}${c.targetS ? `   target <= ${c.targetS} s` : ''}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await teardown();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

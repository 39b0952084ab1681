/**
 * Real load for the trust-under-load tests: CPU and disk I/O at once, the mix that made an older lifeguard
 * kill healthy Gateways. stress-ng (Debian package, installed by .ci/run) when it is on the PATH; otherwise
 * Node processes that spin and write+fsync, so that `npm test` still loads the machine where it is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { groupLeader } from './process-group.js';
import { startStress } from './stress.js';

export interface Load {
  readonly tool: 'stress-ng' | 'node';
  stop(): Promise<void>;
}

const NODE_CPU = 'for (;;) {}';
const NODE_IO = `
const { openSync, writeSync, fsyncSync, closeSync, rmSync } = require('node:fs');
const file = process.argv[1] + '/io-' + process.pid;
const block = Buffer.alloc(1 << 20, 7);
for (;;) { const fd = openSync(file, 'w'); for (let i = 0; i < 32; i += 1) { writeSync(fd, block); fsyncSync(fd); } closeSync(fd); rmSync(file); }
`;

function hasStressNg(): boolean {
  return spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `cpuWorkers` spinning and `ioWorkers` writing to the disk under `under`, for at most `maxSeconds`. */
export function startLoad(spec: { cpuWorkers: number; ioWorkers: number; under: string; maxSeconds: number }): Load {
  if (hasStressNg()) {
    const io = String(spec.ioWorkers);
    const stress = startStress(['--cpu', String(spec.cpuWorkers), '--hdd', io, '--hdd-bytes', '64M', '--io', io], spec.maxSeconds, spec.under);
    return { tool: 'stress-ng', stop: () => stress.stop() };
  }
  const scratch = mkdtempSync(join(spec.under, 'lg-load-'));
  const workers = [
    ...Array.from({ length: spec.cpuWorkers }, () => ['-e', NODE_CPU]),
    ...Array.from({ length: spec.ioWorkers }, () => ['-e', NODE_IO, scratch]),
  ].map((args) => groupLeader(spawn(process.execPath, args, { detached: true, stdio: 'ignore' })));
  const deadline = setTimeout(() => void Promise.all(workers.map((w) => w.stop(1_000))), spec.maxSeconds * 1_000);
  deadline.unref();
  return {
    tool: 'node',
    stop: async () => {
      clearTimeout(deadline);
      await Promise.all(workers.map((w) => w.stop(1_000)));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

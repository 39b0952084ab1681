/**
 * Real load for the trust-under-load tests: CPU and disk I/O at once, the mix that made an older lifeguard
 * kill healthy Gateways. stress-ng (Debian package, installed by .ci/run) when it is on the PATH; otherwise
 * Node processes that spin and write+fsync, so `npm test` still loads the machine where stress-ng is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface Load {
  readonly tool: 'stress-ng' | 'node';
  stop(): Promise<void>;
}

export interface LoadSpec {
  readonly cpuWorkers: number;
  readonly ioWorkers: number;
  /** Where disk workers write (a folder on the disk the Gateways use). */
  readonly under: string;
}

const NODE_CPU = 'for (;;) {}';
const NODE_IO = `
const { openSync, writeSync, fsyncSync, closeSync, rmSync } = require('node:fs');
const file = process.argv[1] + '/io-' + process.pid;
const block = Buffer.alloc(1 << 20, 7);
for (;;) { const fd = openSync(file, 'w'); for (let i = 0; i < 32; i += 1) { writeSync(fd, block); fsyncSync(fd); } closeSync(fd); rmSync(file); }
`;

export function hasStressNg(): boolean {
  return spawnSync('stress-ng', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function startLoad(spec: LoadSpec): Load {
  const dir = mkdtempSync(join(spec.under, 'load-'));
  const children: ChildProcess[] = [];
  const tool = hasStressNg() ? 'stress-ng' : 'node';
  if (tool === 'stress-ng') {
    children.push(spawn('stress-ng', [
      '--cpu', String(spec.cpuWorkers), '--hdd', String(spec.ioWorkers), '--hdd-bytes', '64M', '--io', String(spec.ioWorkers),
      '--temp-path', dir, '--timeout', '600s', '--quiet',
    ], { stdio: 'ignore', detached: true }));
  } else {
    for (let i = 0; i < spec.cpuWorkers; i += 1) children.push(spawn(process.execPath, ['-e', NODE_CPU], { stdio: 'ignore' }));
    for (let i = 0; i < spec.ioWorkers; i += 1) children.push(spawn(process.execPath, ['-e', NODE_IO, dir], { stdio: 'ignore' }));
  }
  return {
    tool,
    stop: async () => {
      await Promise.all(children.map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // stress-ng's workers are its children, in the process group it leads.
        try {
          process.kill(tool === 'stress-ng' ? -child.pid! : child.pid!, 'SIGKILL');
        } catch {
          resolve();
        }
      })));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

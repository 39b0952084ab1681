import type { Flavour } from '../config/schema.js';

/** The Gateway builds lifeguard provisions and tests against, with the Node each one needs. */
export interface RuntimePin {
  readonly packageName: string;
  readonly version: string;
  readonly nodeVersion: string;
  /** Lowest Node major.minor the package's engines accept. */
  readonly minNode: readonly [number, number];
  /** Path of the CLI entry inside the package. */
  readonly entry: string;
  readonly extraDependencies: Readonly<Record<string, string>>;
  readonly overrides: Readonly<Record<string, string>>;
  /** Size of the installed node_modules, measured once, for the install's progress in percent (unset: bytes only). */
  readonly installedBytes?: number;
}

export const RUNTIME_PINS: Readonly<Record<Flavour, RuntimePin>> = {
  openclaw: {
    packageName: 'openclaw',
    version: '2026.9.6',
    nodeVersion: '24.21.0',
    minNode: [24, 16],
    entry: 'openclaw.mjs',
    extraDependencies: {},
    overrides: {},
    installedBytes: 201_000_000,
  },
  clawdbot: {
    packageName: 'clawdbot',
    version: '2026.1.24-3',
    nodeVersion: '22.23.3',
    minNode: [22, 12],
    entry: 'dist/entry.js',
    // pi-coding-agent imports strip-ansi without declaring it; Baileys pulls libsignal from a git URL
    // that only the npm registry's published copy can replace here.
    extraDependencies: { 'strip-ansi': '^7.1.0' },
    overrides: { libsignal: '2.0.1' },
  },
};

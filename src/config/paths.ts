import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Flavour } from './schema.js';

/** Profile name that means "the Gateway's unprofiled default directories". */
export const DEFAULT_PROFILE = 'default';

export interface FlavourNames {
  /** Prefix of every environment variable the flavour reads (OpenClaw ignores CLAWDBOT_* and vice versa). */
  readonly envPrefix: 'OPENCLAW' | 'CLAWDBOT';
  readonly stateDirName: string;
  readonly configFileName: string;
  readonly defaultWorkspace: (userHome: string, stateDir: string, profile: string) => string;
}

export const FLAVOUR_NAMES: Readonly<Record<Flavour, FlavourNames>> = {
  openclaw: {
    envPrefix: 'OPENCLAW',
    stateDirName: '.openclaw',
    configFileName: 'openclaw.json',
    // With OPENCLAW_PROFILE set (as lifeguard sets it), the workspace follows the profile's home.
    defaultWorkspace: (userHome, stateDir, profile) =>
      profile === DEFAULT_PROFILE ? join(stateDir, 'workspace') : join(userHome, `.openclaw-${profile}`, 'workspace'),
  },
  clawdbot: {
    envPrefix: 'CLAWDBOT',
    stateDirName: '.clawdbot',
    configFileName: 'clawdbot.json',
    defaultWorkspace: (userHome, _stateDir, profile) => join(userHome, profile === DEFAULT_PROFILE ? 'clawd' : `clawd-${profile}`),
  },
};

export function resolveStateDir(flavour: Flavour, profile: string, userHome: string): string {
  const base = FLAVOUR_NAMES[flavour].stateDirName;
  return join(userHome, profile === DEFAULT_PROFILE ? base : `${base}-${profile}`);
}

export function resolveGatewayConfigPath(flavour: Flavour, stateDir: string): string {
  return join(stateDir, FLAVOUR_NAMES[flavour].configFileName);
}

/** Where the Gateway writes its JSONL log when `logging.file` is unset: one file per day, shared by all instances. */
export function sharedDefaultLogFile(flavour: Flavour, now = new Date()): string {
  const day = now.toISOString().slice(0, 10);
  return join(tmpdir(), flavour, `${flavour}-${day}.log`);
}


import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

// Where things live, from the environment alone: cheap enough for commands that need no config (status).

export function resolveUserHome(env: NodeJS.ProcessEnv, fallback = homedir()): string {
  return env.HOME && isAbsolute(env.HOME) ? env.HOME : fallback;
}

export function resolveLifeguardHome(env: NodeJS.ProcessEnv, userHome: string): string {
  const configured = env.LIFEGUARD_HOME;
  if (configured) return resolve(expandHome(configured, userHome));
  return join(userHome, '.lifeguard');
}

export function expandHome(path: string, userHome: string): string {
  if (path === '~') return userHome;
  if (path.startsWith('~/')) return join(userHome, path.slice(2));
  return path;
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expandHome, resolveLifeguardHome, resolveUserHome } from './home.js';
import { readConfigInEffect } from './in-effect.js';

// Which lifeguard config file is in effect, without loading it: cheap enough for every command (no zod).

/**
 * `LIFEGUARD_CONFIG` (PM2 gives every app the file in effect this way), then the file in effect that
 * `lifeguard up` recorded, then `./lifeguard.json5`, then `$LIFEGUARD_HOME/lifeguard.json5`, then none.
 */
export function locateConfigFile(env: NodeJS.ProcessEnv, cwd: string, home: string, userHome: string): string | undefined {
  if (env.LIFEGUARD_CONFIG) return resolve(cwd, expandHome(env.LIFEGUARD_CONFIG, userHome));
  const inEffect = readConfigInEffect(home);
  for (const candidate of [inEffect, join(cwd, 'lifeguard.json5'), starterConfigPath(home)]) {
    if (candidate !== undefined && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Where `lifeguard up` writes the starter config when there is none. */
export function starterConfigPath(home: string): string {
  return join(home, 'lifeguard.json5');
}

/**
 * A `lifeguard.json5` in the working directory that is not the file in effect and says something else:
 * edits there would change nothing, so commands warn about it.
 */
export function strayConfigWarning(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const userHome = resolveUserHome(env);
  const inEffect = locateConfigFile(env, cwd, resolveLifeguardHome(env, userHome), userHome);
  const local = join(cwd, 'lifeguard.json5');
  if (inEffect === undefined || inEffect === local || !existsSync(local)) return undefined;
  try {
    if (readFileSync(local, 'utf8') === readFileSync(inEffect, 'utf8')) return undefined;
  } catch {
    // Unreadable either way: still worth the warning.
  }
  return `${local} is not the lifeguard config in effect (${inEffect}) and differs from it: edits there change nothing.\n`
    + `Fix: make your edits in ${inEffect} (the supervisor applies them within seconds), or delete ${local}.`;
}


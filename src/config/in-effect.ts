import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../core/fs.js';

/**
 * Which lifeguard config file the running stack uses, recorded when `lifeguard up` pins it into the PM2
 * apps, so a command run from any folder reads the same file as the supervisor.
 */
export function configInEffectPath(home: string): string {
  return join(home, 'state', 'config-in-effect.json');
}

export function readConfigInEffect(home: string): string | undefined {
  try {
    const record = JSON.parse(readFileSync(configInEffectPath(home), 'utf8')) as { file?: unknown };
    return typeof record.file === 'string' ? record.file : undefined;
  } catch {
    return undefined;
  }
}

export async function recordConfigInEffect(home: string, file: string): Promise<void> {
  await writeFileAtomically(configInEffectPath(home), `${JSON.stringify({ file })}\n`, 0o600);
}

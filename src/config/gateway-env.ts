import { join } from 'node:path';
import { readTextIfExists } from '../core/fs.js';

/**
 * The environment a Gateway under lifeguard really has for `${VAR}` in its config: PM2 passes it only
 * `instances.<name>.env`, and the Gateway loads `$STATE_DIR/.env` itself. lifeguard's own environment
 * never reaches it, so it is not consulted.
 */
export async function loadGatewayEnv(stateDir: string, extra: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const text = await readTextIfExists(join(stateDir, '.env')).catch(() => undefined);
  return { ...parseDotEnv(text ?? ''), ...extra };
}

export function parseDotEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!match) continue;
    let value = match[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    value = quoted ? quoted[2]! : value.replace(/\s+#.*$/, '');
    vars[match[1]!] = value;
  }
  return vars;
}

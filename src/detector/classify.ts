/** Why an instance is down, as the owner would want it said. */
export type Classification = 'crashed' | 'crash-looping' | 'hung' | 'port-conflict' | 'config-invalid' | 'stopped' | 'start-timeout';

const CONFIG_INVALID = [/Config invalid/i, /Invalid config at/i, /Gateway start blocked/i, /Missing config\./i, /JSON5 parse failed/i];
const PORT_CONFLICT = [/EADDRINUSE/, /already listening on/i, /Port \d+ is already in use/i, /gateway already running/i];

/**
 * Classifies one exit from its code and the Gateway's own error output. OpenClaw exits 78 (EX_CONFIG)
 * on a bad config; Clawdbot exits 1 and prints "Config invalid".
 */
export function classifyExit(exit: { code: number | null; signal: string | null; errorTail: readonly string[] }): Classification {
  const output = exit.errorTail.join('\n');
  if (exit.code === 78 || CONFIG_INVALID.some((pattern) => pattern.test(output))) return 'config-invalid';
  if (PORT_CONFLICT.some((pattern) => pattern.test(output))) return 'port-conflict';
  return 'crashed';
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code === null) return 'exited';
  return `exited with code ${code}`;
}

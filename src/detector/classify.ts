/** Why an instance is down, as the owner would want it said. */
export type Classification =
  | 'crashed' | 'crash-looping' | 'network' | 'hung' | 'port-conflict' | 'instance-conflict' | 'config-invalid' | 'stopped';

const CONFIG_INVALID = [/Config invalid/i, /Invalid config at/i, /Gateway start blocked/i, /Missing config\./i, /JSON5 parse failed/i];
/** Another process (often an orphaned Gateway) holds this instance's lock or state database. */
const INSTANCE_CONFLICT = [/lock timeout/i, /database is locked/i, /state (database|db).*(held|owned|locked|in use)/i, /another (gateway|openclaw|process).*(owns|holds)/i];
const RELOAD_LINE = /\[reload\]|Config observe anomaly/;
const PORT_CONFLICT = [/EADDRINUSE/, /already listening on/i, /Port \d+ is already in use/i, /gateway already running/i];
/**
 * A call to the outside world failed and the Gateway died of it: Clawdbot 2026.1.x exits on an unhandled
 * `fetch failed` whenever Telegram (or any API) is unreachable (openclaw issues #3816, #4356, #14736).
 */
const NETWORK = [/\bfetch failed\b/i, /Network request for '[^']*' failed/i, /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH)\b/];
/** Only the Gateway's last words count for a network death: an old failed call it survived says nothing. */
const LAST_WORDS = 12;

/**
 * Classifies one exit from its code and the Gateway's own error output. OpenClaw exits 78 (EX_CONFIG)
 * on a bad config; Clawdbot exits 1 and prints "Config invalid".
 */
export function classifyExit(exit: { code: number | null; signal?: string | null; output: readonly string[] }): Classification {
  // Killed by a signal, it never got to judge its config or its port: whatever it printed earlier is old news.
  if (exit.signal) return 'crashed';
  // A running Gateway logs refused hot reloads ("[reload] config reload skipped (invalid config)"); they say
  // nothing about why it exited.
  const output = exit.output.filter((line) => !RELOAD_LINE.test(line)).join('\n');
  if (CONFIG_INVALID.some((pattern) => pattern.test(output))) return 'config-invalid';
  if (PORT_CONFLICT.some((pattern) => pattern.test(output))) return 'port-conflict';
  if (INSTANCE_CONFLICT.some((pattern) => pattern.test(output))) return 'instance-conflict';
  // OpenClaw's EX_CONFIG; its message names the cause when it is something else.
  if (exit.code === 78) return 'config-invalid';
  const lastWords = exit.output.slice(-LAST_WORDS).join('\n');
  if (NETWORK.some((pattern) => pattern.test(lastWords))) return 'network';
  return 'crashed';
}

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code === null) return 'exited (killed by a signal)';
  return `exited with code ${code}`;
}

const HEADLINE = /failed to start|Invalid config|Config invalid|start blocked|Missing config|EADDRINUSE|already running|already listening/i;
const LEADING_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?\s+/;
const ERRORISH = /error|invalid|failed|refus|blocked|already/i;

/**
 * The words of the Gateway's stderr worth quoting in a reason: its own headline ("Gateway failed to
 * start: Invalid config at ...:" and the problem line after it), else the last error-looking line.
 */
export function pickEvidence(errorOutput: readonly string[]): string | undefined {
  const lines = errorOutput.filter((line) => !RELOAD_LINE.test(line)).map((line) => line.replace(LEADING_TIMESTAMP, ''));
  const headline = lines.findIndex((line) => HEADLINE.test(line));
  if (headline >= 0) {
    const line = lines[headline]!;
    const next = lines[headline + 1];
    return line.trimEnd().endsWith(':') && next ? `${line.trim()} ${next.trim()}` : line.trim();
  }
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (ERRORISH.test(lines[i]!)) return lines[i]!.trim();
  }
  return undefined;
}

import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Every path where a token, password or API key can appear in what lifeguard logs.
 * PM2 payloads carry the app's whole env, so env-shaped objects are covered too.
 */
export const REDACT_PATHS = [
  'token', '*.token', '*.*.token', 'auth.token', '*.auth.token', '*.auth.password',
  'password', '*.password', 'apiKey', '*.apiKey', 'secret', '*.secret',
  'env', '*.env', 'headers.authorization', '*.headers.authorization',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'lifeguard',
      level: validLevel(process.env.LIFEGUARD_LOG_LEVEL) ?? options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** An unknown level from the environment is ignored rather than crashing the supervisor. */
function validLevel(level: string | undefined): string | undefined {
  return level && LEVELS.has(level) ? level : undefined;
}

const SECRET_LIKE = /("?(?:token|password|apiKey|api_key|secret|authorization)"?\s*[:=]\s*"?)([^",\s}]+)/gi;

/** Masks secret-looking values in free text (Gateway stderr, log tails) before it is stored or shown. */
export function redactText(text: string, knownSecrets: readonly string[] = []): string {
  let out = text.replace(SECRET_LIKE, '$1[redacted]');
  for (const secret of knownSecrets) {
    if (secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out;
}

export type { Logger };

import { pino, type Logger, type DestinationStream } from 'pino';
import { redactFields, redactText } from '../secrets/redact.js';

/**
 * pino JSON through the one redactor, on the way out: every logged object has its secret-named fields
 * (PM2's env blocks, `botToken`, `headers`) hidden and its strings masked, and the finished line (the
 * message, an error's stack) is masked once more for the known secrets and credential shapes.
 */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const destination = options.destination ?? pino.destination(1);
  return pino(
    {
      name: 'lifeguard',
      level: validLevel(process.env.LIFEGUARD_LOG_LEVEL) ?? options.level ?? 'info',
      formatters: { log: (object) => redactFields(object) },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    redactingStream(destination),
  );
}

function redactingStream(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(redactText(line)) };
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** An unknown level from the environment is ignored rather than crashing the supervisor. */
function validLevel(level: string | undefined): string | undefined {
  return level && LEVELS.has(level) ? level : undefined;
}

export type { Logger };

import { execFile } from 'node:child_process';
import { redactText } from '../secrets/redact.js';
import { snippet } from './snippet.js';
import { DeliveryError } from './types.js';

export interface CommandOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCommandOptions {
  /** Names the program in errors, e.g. `apprise`. */
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly secrets: readonly string[];
}

// Enough for a CLI to find itself, its home and config, and a proxy; lifeguard's other variables stay out.
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];

export function commandEnv(env: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>>): Record<string, string> {
  const inherited = INHERITED_ENV.flatMap((name) => {
    const value = env[name];
    return value === undefined ? [] : [[name, value] as const];
  });
  return { ...Object.fromEntries(inherited), ...extra };
}

const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Runs a CLI for one delivery attempt and returns how it exited. Throws `DeliveryError` only for what
 * no exit code tells: the program cannot be started (not retryable: it stays missing until someone
 * installs it) or the attempt timed out (retryable; the child is killed).
 */
export function runCommand(argv: readonly string[], options: RunCommandOptions): Promise<CommandOutcome> {
  const [file, ...args] = argv;
  const fail = (text: string, retryable: boolean) => new DeliveryError(redactText(`${options.label}: ${text}`, options.secrets), retryable);
  if (!file) return Promise.reject(fail('no command to run', false));
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: options.env, signal: options.signal, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      if (options.signal.aborted) return reject(fail('no result before the attempt timed out', true));
      if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
      if (error.code === 'ENOENT' || error.code === 'EACCES') return reject(fail(`cannot run ${file} (${error.code})`, false));
      reject(fail(error.signal ? `killed by ${error.signal}` : error.message, true));
    });
  });
}

/** `exited with 1: <the last thing it said>`, secret-free. */
export function exitDetail(outcome: CommandOutcome, secrets: readonly string[]): string {
  const said = (outcome.stderr.trim() || outcome.stdout.trim()).split('\n').slice(-3).join(' ');
  return `exited with ${outcome.code}${said ? `: ${snippet(said, secrets)}` : ''}`;
}

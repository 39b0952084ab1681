import { spawn } from 'node:child_process';
import { killTree } from '../actions/kill-tree.js';
import { errorMessage } from '../core/errors.js';

/** What runs a Gateway's own CLI: the Node binary and the package's entry script. */
export interface GatewayCli {
  readonly node: string;
  readonly entry: string;
}

export interface GatewayCliRun {
  /** null when the CLI was killed or never started. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Why the CLI could not be started at all. */
  readonly spawnError?: string;
  readonly ms: number;
}

export interface GatewayCliOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly timeoutMs: number;
}

/** Gateway CLI runs in flight: a supervisor that stops must not leave them behind as orphans. */
const running = new Set<number>();

/** SIGKILLs every Gateway CLI run still in flight, with what it spawned (the supervisor is stopping). */
export async function killRunningGatewayClis(): Promise<void> {
  await Promise.all([...running].map((pid) => killTree(pid)));
}

/** A Gateway CLI prints a few KB; anything beyond this is noise that must not fill lifeguard's memory. */
const MAX_OUTPUT_CHARS = 512 * 1024;

/**
 * Runs `node <entry> ...args` with exactly the given environment (never lifeguard's own) and never
 * rejects. At the deadline the CLI and everything it spawned is SIGKILLed.
 */
export function runGatewayCli(cli: GatewayCli, args: readonly string[], options: GatewayCliOptions): Promise<GatewayCliRun> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cli.node, [cli.entry, ...args], { cwd: options.cwd, env: { ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ code: null, stdout, stderr, timedOut, spawnError: errorMessage(error), ms: elapsed() });
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    child.on('exit', () => { if (pid !== undefined) running.delete(pid); });
    child.stdout?.on('data', (chunk: Buffer) => { stdout = capped(stdout + chunk.toString()); });
    child.stderr?.on('data', (chunk: Buffer) => { stderr = capped(stderr + chunk.toString()); });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) void killTree(child.pid);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, timedOut, spawnError: errorMessage(error), ms: elapsed() });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: elapsed() });
    });
  });
}

/** Keeps the end, where a CLI reports its result. */
function capped(text: string): string {
  return text.length > MAX_OUTPUT_CHARS ? text.slice(-MAX_OUTPUT_CHARS) : text;
}

/**
 * The JSON document a CLI printed with `--json`. Clawdbot prints its clack "Config invalid" boxes
 * before it on an invalid config, so parsing starts at the first line that opens an object and parses.
 */
export function jsonDocumentIn(output: string): unknown {
  for (const match of output.matchAll(/^\{/gm)) {
    try {
      return JSON.parse(output.slice(match.index));
    } catch {
      // a line of prose that happens to start with a brace
    }
  }
  return undefined;
}

const BOX_DRAWING = /[\u2500-\u259f\u25c6\u25c7\u25cf\u25cb]/g;
const ANSI = /\u001b\[[0-9;]*m/g;

/** Output of a CLI that draws boxes (doctor), flattened to its words. */
export function withoutBoxes(text: string): string {
  return text.replace(ANSI, '').replace(BOX_DRAWING, ' ').replace(/\s+/g, ' ').trim();
}

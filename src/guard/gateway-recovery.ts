import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Flavour } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../secrets/redact.js';
import { locatePackage } from '../runtime/resolve.js';
import { runGatewayCli, withoutBoxes, type GatewayCli } from './gateway-cli.js';
import {
  cliEnv, probeConfigValidity, readConfigFile, secretsFor, stateDirOf, type ConfigVerdict, type ValidationOptions,
} from './validate-config.js';

/**
 * OpenClaw's own last-known-good recovery. After a config it accepted (a valid hot reload or one of its
 * own writes; the start-up promotion in 2026.9.6 did not happen in our runs) it keeps the bytes as
 * `<config>.last-good` and their sha256 in its state database. `openclaw doctor --fix` restores that copy
 * over an invalid config (JSON5 syntax error, unknown key, wrong type) and keeps the rejected file as
 * `<config>.clobbered.<timestamp>`; start-up and hot reload never do.
 *
 * Clawdbot has no such copy, and its `doctor --fix` replaces a config with a JSON5 syntax error by an
 * almost empty one (exit 0), so everything here refuses to run on anything but an OpenClaw package.
 */

export interface GatewayRecoveryInput {
  readonly configPath: string;
  /** The Gateway CLI; its package decides the flavour, whatever the caller believes it is. */
  readonly runtime: GatewayCli;
  /** The instance's Gateway environment as PM2 gives it. */
  readonly env: Readonly<Record<string, string>>;
}

export type GatewayLastKnownGood =
  | { readonly state: 'unsupported'; readonly detail: string }
  | { readonly state: 'absent'; readonly path: string; readonly detail: string }
  | {
    readonly state: 'present';
    readonly path: string;
    readonly hash: string;
    /** Doctor restores the copy only while this hash matches the one in OpenClaw's state database. */
    readonly verdict: ConfigVerdict;
    readonly detail: string;
  };

export interface GatewayRecoveryResult {
  /** The Gateway replaced the config with its last-known-good copy. */
  readonly ok: boolean;
  readonly detail: string;
  /** False when lifeguard refused to run it (not OpenClaw) or it could not start. */
  readonly ran: boolean;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  /** Where the Gateway kept the rejected config. */
  readonly keptBrokenAs?: string;
  /** Doctor also rewrites a config it did not restore (it strips unknown keys, disables unusable skills). */
  readonly configChanged: boolean;
  /** The end of what doctor said, flattened and secret-free. */
  readonly excerpt: string;
}

export function lastKnownGoodPath(configPath: string): string {
  return `${configPath}.last-good`;
}

/** Whether OpenClaw's last-known-good copy exists and would pass validation; never throws. */
export async function probeGatewayLastKnownGood(input: GatewayRecoveryInput, options: ValidationOptions): Promise<GatewayLastKnownGood> {
  const refusal = openclawOnly(input.runtime);
  if (refusal) return { state: 'unsupported', detail: refusal };
  const path = lastKnownGoodPath(input.configPath);
  const file = await readConfigFile(path);
  if (file.state === 'missing') return { state: 'absent', path, detail: `no ${basename(path)}: OpenClaw has promoted no config yet` };
  if (file.state === 'unreadable') return { state: 'absent', path, detail: file.detail };
  // The copy is checked where it lies, with the instance's env: its `$include`s resolve from the same directory.
  const verdict = await probeConfigValidity({ configPath: path, flavour: 'openclaw', runtime: input.runtime, env: input.env }, options);
  const judged = verdict.valid === true ? 'valid' : verdict.valid === false ? `invalid (${verdict.kind})` : 'not checked';
  return { state: 'present', path, hash: file.hash, verdict, detail: `${basename(path)} is ${judged}` };
}

const RESTORED = /auto-restored from last-known-good|Restored \S+ from last-known-good/i;
const EXCERPT_CHARS = 600;

/**
 * Runs OpenClaw's own repair, `doctor --fix --non-interactive`, against the instance's config and state
 * and reports what it did; never throws. Measured on 2026.9.6: 10-18 s. Meant for a stopped or
 * crash-looping Gateway (the docs ask for the Gateway to be stopped first).
 */
export async function runGatewayRecovery(input: GatewayRecoveryInput, options: ValidationOptions): Promise<GatewayRecoveryResult> {
  const refusal = openclawOnly(input.runtime);
  const notRun = (detail: string) => ({ ok: false, detail, ran: false, exitCode: null, timedOut: false, durationMs: 0, configChanged: false, excerpt: '' });
  if (refusal) return notRun(`refused: ${refusal}`);
  try {
    const before = await readConfigFile(input.configPath);
    const keptBefore = new Set(await clobberedCopies(input.configPath));
    const instance = { flavour: 'openclaw', env: input.env, configPath: input.configPath } as const;
    const secrets = await secretsFor(instance, before.state === 'parsed' ? before.config : undefined);
    const env = {
      ...cliEnv(instance),
      // PM2 owns the Gateway's lifecycle: doctor must not install, start or restart a service for it.
      OPENCLAW_SERVICE_REPAIR_POLICY: 'external',
    };
    const run = await runGatewayCli(input.runtime, ['doctor', '--fix', '--non-interactive', '--no-workspace-suggestions'], {
      env, cwd: stateDirOf(instance), timeoutMs: options.timeoutMs,
    });
    if (run.spawnError) return notRun(`cannot run openclaw doctor: ${run.spawnError}`);
    const after = await readConfigFile(input.configPath);
    const keptBrokenAs = (await clobberedCopies(input.configPath)).filter((name) => !keptBefore.has(name)).sort().at(-1);
    const restored = RESTORED.test(`${run.stderr}\n${run.stdout}`) && !run.timedOut;
    const configChanged = hashOf(before) !== hashOf(after);
    const excerpt = redactText(withoutBoxes(run.stderr.trim() || run.stdout).slice(-EXCERPT_CHARS), secrets);
    const how = run.timedOut ? `did not finish within ${options.timeoutMs} ms` : `exited ${run.code ?? 'by signal'} after ${run.ms} ms`;
    const detail = restored
      ? `OpenClaw doctor restored its last-known-good config${keptBrokenAs ? `, keeping the rejected one as ${keptBrokenAs}` : ''} (${how})`
      : `OpenClaw doctor ${how} without restoring a last-known-good config${configChanged ? ' (it changed the config otherwise)' : ''}: ${excerpt.slice(-200)}`;
    return {
      ok: restored,
      detail,
      ran: true,
      exitCode: run.code,
      timedOut: run.timedOut,
      durationMs: run.ms,
      ...(keptBrokenAs ? { keptBrokenAs: join(dirname(input.configPath), keptBrokenAs) } : {}),
      configChanged,
      excerpt,
    };
  } catch (error) {
    return notRun(`OpenClaw doctor could not be run: ${errorMessage(error)}`);
  }
}

/** Why this runtime must not be used here; undefined only for a CLI inside an OpenClaw package. */
function openclawOnly(runtime: GatewayCli): string | undefined {
  const flavour = packageFlavour(runtime.entry);
  if (flavour === 'openclaw') return undefined;
  if (!flavour) return `${runtime.entry} is not part of an OpenClaw package`;
  return `${runtime.entry} is ${flavour}: only OpenClaw keeps a last-known-good config, and Clawdbot's doctor --fix replaces a config with a JSON5 syntax error by an empty one`;
}

function packageFlavour(entry: string): Flavour | undefined {
  try {
    return locatePackage(entry, `the Gateway CLI ${entry}`).flavour;
  } catch {
    return undefined;
  }
}

async function clobberedCopies(configPath: string): Promise<string[]> {
  const prefix = `${basename(configPath)}.clobbered.`;
  const names = await readdir(dirname(configPath)).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith(prefix));
}

function hashOf(read: Awaited<ReturnType<typeof readConfigFile>>): string | undefined {
  return read.state === 'parsed' || read.state === 'syntax' ? read.hash : undefined;
}

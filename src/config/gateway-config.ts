import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import JSON5 from 'json5';
import type { Flavour } from './schema.js';
import { errorMessage } from '../core/errors.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';

/** The few facts lifeguard needs from a Gateway's own config file. */
export interface GatewayConfigFacts {
  readonly exists: boolean;
  readonly port?: number;
  readonly token?: string;
  readonly workspace?: string;
  readonly logFile?: string;
  /** Ports and URLs pinned in the config (`browser.*`, `canvasHost.port`) that must differ between instances. */
  readonly pinnedEndpoints: ReadonlyArray<{ key: string; value: string; port?: number }>;
}

export type GatewayConfigRead =
  | { ok: true; facts: GatewayConfigFacts }
  | { ok: false; error: string };

const ENV_REF = /^\$\{([A-Z0-9_]+)\}$/;

export async function readGatewayConfig(path: string, env: Readonly<Record<string, string | undefined>>): Promise<GatewayConfigRead> {
  let text: string | undefined;
  try {
    text = await readTextIfExists(path);
  } catch (error) {
    return { ok: false, error: `cannot read ${path}: ${errorMessage(error)}` };
  }
  if (text === undefined) return { ok: true, facts: { exists: false, pinnedEndpoints: [] } };
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    return { ok: false, error: `${path} is not valid JSON5: ${errorMessage(error)}` };
  }
  if (!isRecord(parsed)) return { ok: false, error: `${path} must hold a JSON5 object at the top level` };
  return { ok: true, facts: extractFacts(parsed, env) };
}

export function extractFacts(config: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): GatewayConfigFacts {
  const gateway = record(config.gateway);
  const browser = record(config.browser);
  const pinnedEndpoints: Array<{ key: string; value: string; port?: number }> = [];
  const addEndpoint = (key: string, value: unknown) => {
    if (typeof value === 'string' && value) pinnedEndpoints.push({ key, value, ...withPort(urlPort(value)) });
    if (typeof value === 'number') pinnedEndpoints.push({ key, value: String(value), port: value });
  };
  addEndpoint('browser.controlUrl', browser.controlUrl);
  addEndpoint('browser.controlPort', browser.controlPort);
  addEndpoint('canvasHost.port', record(config.canvasHost).port);
  addEndpoint('browser.cdpUrl', browser.cdpUrl);
  for (const [name, profile] of Object.entries(record(browser.profiles))) {
    addEndpoint(`browser.profiles.${name}.cdpPort`, record(profile).cdpPort);
    addEndpoint(`browser.profiles.${name}.cdpUrl`, record(profile).cdpUrl);
  }
  const token = substituteEnv(record(gateway.auth).token, env);
  const workspace = record(record(config.agents).defaults).workspace;
  const logFile = record(config.logging).file;
  return {
    exists: true,
    pinnedEndpoints,
    ...(typeof gateway.port === 'number' ? { port: gateway.port } : {}),
    ...(token ? { token } : {}),
    ...(typeof workspace === 'string' && workspace ? { workspace } : {}),
    ...(typeof logFile === 'string' && logFile ? { logFile } : {}),
  };
}

export interface MinimalGatewayConfig {
  readonly flavour: Flavour;
  readonly port: number;
  readonly workspace: string;
  readonly logFile: string;
}

/**
 * A config the Gateway starts with and an outside probe can reach: local mode, loopback only,
 * a persisted token (OpenClaw otherwise generates a runtime-only one no probe can know).
 */
export function buildMinimalGatewayConfig(settings: MinimalGatewayConfig, token = generateToken()): Record<string, unknown> {
  return {
    gateway: { mode: 'local', port: settings.port, bind: 'loopback', auth: { mode: 'token', token } },
    agents: { defaults: { workspace: settings.workspace } },
    logging: { file: settings.logFile },
    // Clawdbot otherwise roots every instance's canvas at ~/clawd/canvas, whatever the workspace.
    ...(settings.flavour === 'clawdbot' ? { canvasHost: { root: join(settings.workspace, 'canvas') } } : {}),
  };
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Writes a minimal config only where none exists; an existing Gateway config is never touched. */
export async function ensureGatewayConfig(path: string, settings: MinimalGatewayConfig): Promise<'created' | 'kept'> {
  if ((await readTextIfExists(path)) !== undefined) return 'kept';
  await writeFileAtomically(path, `${JSON.stringify(buildMinimalGatewayConfig(settings), null, 2)}\n`, 0o600);
  return 'created';
}

function substituteEnv(value: unknown, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const ref = ENV_REF.exec(value);
  return ref ? env[ref[1]!] : value;
}

function urlPort(value: string): number | undefined {
  try {
    const url = new URL(value);
    if (url.port) return Number(url.port);
    return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80;
  } catch {
    return undefined;
  }
}

function withPort(port: number | undefined): { port?: number } {
  return port === undefined ? {} : { port };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

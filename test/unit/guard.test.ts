import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { ConfigWatcher, type WatchDirectory, type WatcherTimers } from '../../src/guard/config-watcher.js';
import { probeGatewayLastKnownGood, runGatewayRecovery } from '../../src/guard/gateway-recovery.js';
import {
  probeConfigValidity, readConfigFile, startGuardIssue, type ConfigValidationInput, type ConfigVerdict,
} from '../../src/guard/validate-config.js';
import type { Flavour } from '../../src/config/schema.js';
import { tempDir } from '../helpers/temp-dir.js';

const TOKEN = 'secret-token-0123456789';
const VALID = `// comment\n{ gateway: { mode: "local", port: 28789, auth: { token: "${TOKEN}" } }, }\n`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A stand-in for a Gateway CLI (`node <entry> ...`): answers as `config validate --json` (OpenClaw) or
 * `gateway status --json` (Clawdbot) would, as FAKE_MODE says, and logs each call to FAKE_LOG.
 */
const FAKE_CLI = String.raw`
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
const env = process.env;
const path = env.OPENCLAW_CONFIG_PATH ?? env.CLAWDBOT_CONFIG_PATH;
const clawdbot = process.argv[2] === 'gateway';
// Clawdbot's gateway status binds the port it is given to see whether it is free.
const port = env.CLAWDBOT_GATEWAY_PORT;
const portBusy = clawdbot && await new Promise((resolve) => {
  const server = createServer().once('error', () => resolve(true));
  server.listen(Number(port), '127.0.0.1', () => server.close(() => resolve(false)));
});
appendFileSync(env.FAKE_LOG, JSON.stringify({ args: process.argv.slice(2), path, port, portBusy }) + '\n');
const issues = [{ path: 'gateway', message: 'Unrecognized key: "nope"' }, { path: 'gateway.auth', message: 'bad token ' + env.FAKE_SECRET }];
const answer = (valid, list, reportedPath = path) => clawdbot
  ? JSON.stringify({ service: {}, config: { cli: { path: reportedPath, exists: true, valid, ...(list ? { issues: list } : {}) } } }, null, 2)
  : JSON.stringify({ valid, path: reportedPath, ...(list ? { issues: list } : {}) }, null, 2);
switch (env.FAKE_MODE) {
  case 'valid': console.log(answer(true)); break;
  case 'invalid':
    if (clawdbot) console.log('Config invalid\nFile: ' + path + '\n{ not the document }');
    console.log(answer(false, issues));
    process.exitCode = clawdbot ? 0 : 1;
    break;
  case 'other-path': console.log(answer(true, undefined, '/elsewhere/openclaw.json')); break;
  case 'garbage': console.error('Error: boom'); process.exitCode = 2; break;
  case 'hang': setTimeout(() => {}, 60_000); break;
}
`;

interface FakeCall {
  readonly args: string[];
  readonly path: string;
  readonly port?: string;
  readonly portBusy: boolean;
}

interface Fixture {
  readonly dir: string;
  readonly configPath: string;
  readonly log: string;
  input(flavour: Flavour, mode: string, extra?: Partial<ConfigValidationInput>): ConfigValidationInput;
  calls(): FakeCall[];
}

function fixture(): Fixture {
  const dir = tempDir('lg-guard-');
  const state = join(dir, 'state');
  mkdirSync(state);
  const entry = join(dir, 'fake-cli.mjs');
  writeFileSync(entry, FAKE_CLI);
  const configPath = join(state, 'gateway.json');
  const log = join(dir, 'calls.jsonl');
  return {
    dir,
    configPath,
    log,
    input: (flavour, mode, extra = {}) => ({
      configPath,
      flavour,
      runtime: { node: process.execPath, entry },
      env: {
        [flavour === 'openclaw' ? 'OPENCLAW_STATE_DIR' : 'CLAWDBOT_STATE_DIR']: state,
        [flavour === 'openclaw' ? 'OPENCLAW_GATEWAY_PORT' : 'CLAWDBOT_GATEWAY_PORT']: '28789',
        FAKE_MODE: mode,
        FAKE_LOG: log,
        FAKE_SECRET: TOKEN,
      },
      ...extra,
    }),
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as FakeCall) : []),
  };
}

const noRuntime = { node: '/nonexistent/node', entry: '/nonexistent/openclaw.mjs' };

describe('config validation: the fast path needs no Gateway', () => {
  it('reports a JSON5 syntax error with its line and column, and the hash of the bytes', async () => {
    const f = fixture();
    const broken = '{\n  gateway: { mode: "local", port: 28789 \n';
    writeFileSync(f.configPath, broken);
    const started = performance.now();
    const verdict = await probeConfigValidity({ ...f.input('openclaw', 'valid'), runtime: noRuntime }, { timeoutMs: 5_000 });
    assert.ok(performance.now() - started < 500, 'the syntax path must not wait for anything');
    assert.equal(verdict.valid, false);
    assert.ok(verdict.valid === false);
    assert.equal(verdict.kind, 'syntax');
    assert.equal(verdict.via, 'json5');
    assert.equal(verdict.hash, sha(broken));
    assert.match(verdict.issues[0]!, /^<root>: JSON5: invalid end of input at 3:1$/);
  });

  it('reports a missing file as missing, with no hash', async () => {
    const f = fixture();
    const verdict = await probeConfigValidity(f.input('clawdbot', 'valid'), { timeoutMs: 5_000 });
    assert.deepEqual({ ...verdict, issues: undefined }, { valid: false, hash: null, kind: 'missing', via: 'file', issues: undefined });
    assert.equal(f.calls().length, 0);
  });

  it('rejects a root that is not an object without asking the Gateway', async () => {
    const f = fixture();
    writeFileSync(f.configPath, '[1, 2]');
    const verdict = await probeConfigValidity(f.input('openclaw', 'valid'), { timeoutMs: 5_000 });
    assert.ok(verdict.valid === false && verdict.kind === 'schema' && verdict.via === 'json5');
  });

  it('says unknown, never invalid, when no validator can run', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    const verdict = await probeConfigValidity({ ...f.input('openclaw', 'valid'), runtime: noRuntime }, { timeoutMs: 5_000 });
    assert.equal(verdict.valid, 'unknown');
    assert.ok(verdict.valid === 'unknown');
    assert.equal(verdict.hash, sha(VALID));
    assert.match(verdict.detail, /cannot run openclaw config validate/);
  });
});

describe('config validation: the flavour CLI', () => {
  for (const flavour of ['openclaw', 'clawdbot'] as const) {
    it(`${flavour}: valid, with the explicit config path and the flavour's own command`, async () => {
      const f = fixture();
      writeFileSync(f.configPath, VALID);
      const verdict = await probeConfigValidity(f.input(flavour, 'valid'), { timeoutMs: 10_000 });
      assert.deepEqual(verdict, { valid: true, hash: sha(VALID), via: 'gateway-cli' });
      const [call] = f.calls();
      assert.equal(call?.path, f.configPath);
      assert.deepEqual(call?.args, flavour === 'openclaw' ? ['config', 'validate', '--json'] : ['gateway', 'status', '--json', '--no-probe']);
    });

    if (flavour === 'clawdbot') {
      it("clawdbot: the port its status check binds is one lifeguard holds, never the Gateway's", async () => {
        const f = fixture();
        writeFileSync(f.configPath, VALID);
        await probeConfigValidity(f.input(flavour, 'valid'), { timeoutMs: 10_000 });
        const [call] = f.calls();
        assert.notEqual(call?.port, '28789');
        assert.equal(call?.portBusy, true);
      });
    }

    it(`${flavour}: schema issues, short and without the token`, async () => {
      const f = fixture();
      writeFileSync(f.configPath, VALID);
      const verdict = await probeConfigValidity(f.input(flavour, 'invalid'), { timeoutMs: 10_000 });
      assert.ok(verdict.valid === false, JSON.stringify(verdict));
      assert.equal(verdict.kind, 'schema');
      assert.equal(verdict.via, 'gateway-cli');
      assert.deepEqual(verdict.issues, ['gateway: Unrecognized key: "nope"', 'gateway.auth: bad token [redacted]']);
      assert.ok(!JSON.stringify(verdict).includes(TOKEN));
    });
  }

  it('says unknown when the CLI hangs past the deadline (and kills it)', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    const started = Date.now();
    const verdict = await probeConfigValidity(f.input('openclaw', 'hang'), { timeoutMs: 1_500 });
    assert.ok(verdict.valid === 'unknown' && /no answer within/.test(verdict.detail), JSON.stringify(verdict));
    assert.ok(Date.now() - started < 5_000);
  });

  it('says unknown when the CLI prints no verdict, or one about another file', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    const garbage = await probeConfigValidity(f.input('openclaw', 'garbage'), { timeoutMs: 10_000 });
    assert.ok(garbage.valid === 'unknown' && /exited 2 without a verdict: Error: boom/.test(garbage.detail), JSON.stringify(garbage));
    const elsewhere = await probeConfigValidity(f.input('openclaw', 'other-path'), { timeoutMs: 10_000 });
    assert.ok(elsewhere.valid === 'unknown' && /validated \/elsewhere\/openclaw\.json instead of/.test(elsewhere.detail));
  });

  it('blocks a config without gateway.mode "local", which both flavours pass and then refuse to start', async () => {
    const f = fixture();
    writeFileSync(f.configPath, '{ gateway: { port: 28789 } }');
    const verdict = await probeConfigValidity(f.input('openclaw', 'valid'), { timeoutMs: 10_000 });
    assert.ok(verdict.valid === false && verdict.kind === 'start-blocked' && verdict.via === 'start-guard', JSON.stringify(verdict));
    assert.match(verdict.issues[0]!, /^gateway\.mode: unset/);
  });

  it('start guard: only a mode lifeguard can read is judged', () => {
    assert.equal(startGuardIssue({ gateway: { mode: 'local' } }), undefined);
    assert.match(startGuardIssue({}) ?? '', /unset/);
    assert.match(startGuardIssue({ gateway: { mode: 'remote' } }) ?? '', /gateway\.mode: "remote"/);
    assert.equal(startGuardIssue({ gateway: { mode: '${GATEWAY_MODE}' } }), undefined);
    assert.equal(startGuardIssue({ gateway: { $include: './gateway.json5' } }), undefined);
    assert.equal(startGuardIssue({ $include: './base.json5' }), undefined);
  });
});

/** Answers `config.get` as a Gateway on loopback does; `answer` decides the payload per call. */
async function startConfigGateway(answer: () => unknown): Promise<{ url: string; scopes: string[][]; close: () => Promise<void> }> {
  const http: Server = createServer();
  const wss = new WebSocketServer({ server: http });
  const scopes: string[][] = [];
  wss.on('connection', (socket) => {
    socket.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }));
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { id: string; method: string; params: { scopes?: string[] } };
      if (frame.method === 'connect') {
        scopes.push(frame.params.scopes ?? []);
        return socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: { type: 'hello-ok', protocol: 4 } }));
      }
      socket.send(JSON.stringify({ type: 'res', id: frame.id, ok: true, payload: answer() }));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(http.address() as { port: number }).port}`,
    scopes,
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => http.close(() => resolve()));
    }),
  };
}

describe('config validation: the running Gateway', () => {
  let payload: () => unknown = () => ({});
  let gateway: Awaited<ReturnType<typeof startConfigGateway>>;
  before(async () => { gateway = await startConfigGateway(() => payload()); });
  after(() => gateway.close());

  it('uses config.get, asking Clawdbot with operator.admin, and keeps none of the config it returns', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    payload = () => ({ path: f.configPath, exists: true, valid: false, raw: VALID, config: { gateway: { auth: { token: TOKEN } } }, issues: [{ path: 'gateway', message: 'Unrecognized key: "nope"' }] });
    const verdict = await probeConfigValidity(f.input('clawdbot', 'valid', { gateway: { url: gateway.url, token: TOKEN } }), { timeoutMs: 10_000 });
    assert.deepEqual(verdict, { valid: false, hash: sha(VALID), kind: 'schema', issues: ['gateway: Unrecognized key: "nope"'], via: 'gateway-rpc' });
    assert.deepEqual(gateway.scopes.at(-1), ['operator.admin']);
    assert.equal(f.calls().length, 0);
  });

  it('waits until OpenClaw has seen a change that just happened, and asks with operator.read', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    let askedAt = 0;
    payload = () => {
      askedAt = Date.now();
      return { path: f.configPath, exists: true, valid: true };
    };
    const written = Date.now();
    const verdict = await probeConfigValidity(f.input('openclaw', 'invalid', { gateway: { url: gateway.url, token: TOKEN } }), { timeoutMs: 10_000 });
    assert.deepEqual(verdict, { valid: true, hash: sha(VALID), via: 'gateway-rpc' });
    assert.ok(askedAt - written >= 600, `asked ${askedAt - written} ms after the write`);
    assert.deepEqual(gateway.scopes.at(-1), ['operator.read']);
  });

  it('falls back to the CLI when the Gateway answers for another file', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    payload = () => ({ path: '/somewhere/else.json', exists: true, valid: true });
    const verdict = await probeConfigValidity(f.input('clawdbot', 'invalid', { gateway: { url: gateway.url, token: TOKEN } }), { timeoutMs: 10_000 });
    assert.ok(verdict.valid === false && verdict.via === 'gateway-cli');
  });

  it('asks a fresh Clawdbot process about a missing ${VAR}: the running one never saw later .env edits', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    payload = () => ({ path: f.configPath, exists: true, valid: false, issues: [{ path: '', message: 'Missing env var "GW_TOKEN" referenced at config path: gateway.auth.token' }] });
    const verdict = await probeConfigValidity(f.input('clawdbot', 'valid', { gateway: { url: gateway.url, token: TOKEN } }), { timeoutMs: 10_000 });
    assert.deepEqual(verdict, { valid: true, hash: sha(VALID), via: 'gateway-cli' });
  });

  it('falls back to the CLI when no Gateway listens', async () => {
    const f = fixture();
    writeFileSync(f.configPath, VALID);
    const verdict = await probeConfigValidity(f.input('clawdbot', 'valid', { gateway: { url: 'ws://127.0.0.1:1', token: TOKEN } }), { timeoutMs: 10_000 });
    assert.deepEqual(verdict, { valid: true, hash: sha(VALID), via: 'gateway-cli' });
  });
});

// ---------------------------------------------------------------------------------------------------
// The watcher

/** Timers that only move when the test says so. */
class ManualTimers implements WatcherTimers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; run: () => void; every?: number }>();
  setTimeout(run: () => void, ms: number): unknown { return this.add(run, ms); }
  setInterval(run: () => void, ms: number): unknown { return this.add(run, ms, ms); }
  clearTimeout(handle: unknown): void { this.pending.delete(handle as number); }
  clearInterval(handle: unknown): void { this.pending.delete(handle as number); }
  get count(): number { return this.pending.size; }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.now = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.pending.delete(id);
      timer.run();
    }
    this.now = until;
  }
  private add(run: () => void, ms: number, every?: number): number {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, run, ...(every ? { every } : {}) });
    return id;
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

function fakeDirectory() {
  const state = { emit: (_name: string | null) => {}, fail: (_error: Error) => {}, watches: 0, closed: 0, throwOnWatch: false };
  const watchDirectory: WatchDirectory = (_dir, onEvent, onError) => {
    if (state.throwOnWatch) throw new Error('ENOENT');
    state.watches += 1;
    state.emit = onEvent;
    state.fail = onError;
    return { close: () => { state.closed += 1; } };
  };
  return { state, watchDirectory };
}

const verdictFor = (hash: string, valid: boolean): ConfigVerdict =>
  valid ? { valid: true, hash, via: 'gateway-cli' } : { valid: false, hash, kind: 'schema', issues: ['x: bad'], via: 'gateway-cli' };

describe('config watcher (manual timers)', () => {
  function setup(initial: ConfigVerdict = verdictFor('a', true)) {
    const timers = new ManualTimers();
    const dir = fakeDirectory();
    let next: ConfigVerdict | (() => Promise<ConfigVerdict>) = initial;
    const seen: Array<[ConfigVerdict, ConfigVerdict | undefined]> = [];
    let validations = 0;
    const watcher = new ConfigWatcher({
      configPath: '/etc/gw/openclaw.json',
      validate: () => {
        validations += 1;
        return typeof next === 'function' ? next() : Promise.resolve(next);
      },
      onVerdict: (verdict, previous) => seen.push([verdict, previous]),
      intervalMs: 60_000,
      debounceMs: 150,
      timers,
      watchDirectory: dir.watchDirectory,
    });
    return {
      timers, dir, watcher, seen,
      get validations() { return validations; },
      set: (verdict: ConfigVerdict | (() => Promise<ConfigVerdict>)) => { next = verdict; },
    };
  }

  it('reports the first verdict at start', async () => {
    const t = setup();
    await t.watcher.start();
    assert.deepEqual(t.seen, [[verdictFor('a', true), undefined]]);
    assert.equal(t.watcher.verdict?.hash, 'a');
    t.watcher.close();
  });

  it('debounces a burst of events for the file into one check, and ignores other files', async () => {
    const t = setup();
    await t.watcher.start();
    t.set(verdictFor('b', false));
    t.dir.state.emit('openclaw.json.tmp-123');
    t.dir.state.emit('openclaw.json');
    t.timers.advance(100);
    t.dir.state.emit(null);
    t.timers.advance(100);
    t.dir.state.emit('openclaw.json');
    t.timers.advance(149);
    await settle();
    assert.equal(t.validations, 1, 'no check before the burst has been quiet for 150 ms');
    t.timers.advance(1);
    await settle();
    assert.equal(t.validations, 2);
    assert.deepEqual(t.seen.at(-1), [verdictFor('b', false), verdictFor('a', true)]);
    t.dir.state.emit('other.json');
    t.timers.advance(1_000);
    await settle();
    assert.equal(t.validations, 2);
    t.watcher.close();
  });

  it('calls back only when the hash or the verdict changes', async () => {
    const t = setup();
    await t.watcher.start();
    await t.watcher.check();
    assert.equal(t.seen.length, 1, 'same bytes, same verdict: nothing to report');
    t.set({ valid: true, hash: 'a', via: 'gateway-rpc' });
    await t.watcher.check();
    assert.equal(t.seen.length, 1, 'another validator agreeing is no news');
    t.set(verdictFor('a', false));
    await t.watcher.check();
    assert.equal(t.seen.length, 2, 'the same bytes judged otherwise (e.g. after a .env edit) is news');
    t.set(verdictFor('c', false));
    await t.watcher.check();
    assert.equal(t.seen.length, 3);
    t.watcher.close();
  });

  it('keeps the last verdict when the validator cannot run for the same bytes', async () => {
    const t = setup();
    await t.watcher.start();
    t.set({ valid: 'unknown', hash: 'a', detail: 'CLI timed out' });
    await t.watcher.check();
    assert.equal(t.seen.length, 1);
    assert.equal(t.watcher.verdict?.valid, true);
    t.set({ valid: 'unknown', hash: 'b', detail: 'CLI timed out' });
    await t.watcher.check();
    assert.equal(t.seen.at(-1)?.[0].valid, 'unknown', 'new bytes of unknown validity are news');
    t.set(() => Promise.reject(new Error('boom')));
    await t.watcher.check();
    assert.match(JSON.stringify(t.watcher.verdict), /validator failed: Error: boom/);
    t.watcher.close();
  });

  it('checks periodically, which catches what no file event reports', async () => {
    const t = setup();
    await t.watcher.start();
    t.set(verdictFor('a', false));
    t.timers.advance(60_000);
    await settle();
    assert.equal(t.validations, 2);
    assert.equal(t.seen.at(-1)?.[0].valid, false);
    t.timers.advance(60_000);
    await settle();
    assert.equal(t.validations, 3);
    t.watcher.close();
  });

  it('never overlaps checks: a change during a check runs exactly one more', async () => {
    const t = setup();
    await t.watcher.start();
    let release: (value: ConfigVerdict) => void = () => {};
    t.set(() => new Promise((resolve) => { release = resolve; }));
    const first = t.watcher.check();
    void t.watcher.check();
    void t.watcher.check();
    assert.equal(t.validations, 2);
    t.set(verdictFor('d', true));
    release(verdictFor('c', true));
    await first;
    assert.equal(t.validations, 3);
    assert.deepEqual(t.seen.map(([v]) => v.hash), ['a', 'c', 'd']);
    t.watcher.close();
  });

  it('watches again after the directory watch fails or the directory was missing', async () => {
    const t = setup();
    t.dir.state.throwOnWatch = true;
    await t.watcher.start();
    assert.equal(t.dir.state.watches, 0);
    t.dir.state.throwOnWatch = false;
    t.timers.advance(60_000);
    await settle();
    assert.equal(t.dir.state.watches, 1);
    t.dir.state.fail(new Error('EPERM'));
    assert.equal(t.dir.state.closed, 1);
    t.timers.advance(150);
    await settle();
    assert.equal(t.validations, 3, 'a failed watch triggers a check of its own');
    t.timers.advance(60_000);
    assert.equal(t.dir.state.watches, 2);
    t.watcher.close();
  });

  it('close stops every timer and the directory watch', async () => {
    const t = setup();
    await t.watcher.start();
    t.dir.state.emit('openclaw.json');
    t.watcher.close();
    assert.equal(t.timers.count, 0);
    assert.equal(t.dir.state.closed, 1);
    t.timers.advance(120_000);
    await settle();
    assert.equal(t.validations, 1);
  });
});

describe('config watcher (real files)', () => {
  /** The fast path as a validator: enough to see which bytes the watcher looked at. */
  const fileVerdict = async (path: string): Promise<ConfigVerdict> => {
    const file = await readConfigFile(path);
    if (file.state === 'missing') return { valid: false, hash: null, kind: 'missing', issues: ['gone'], via: 'file' };
    if (file.state === 'unreadable') return { valid: 'unknown', hash: null, detail: file.detail };
    if (file.state === 'syntax') return { valid: false, hash: file.hash, kind: 'syntax', issues: [file.issue], via: 'json5' };
    return { valid: true, hash: file.hash, via: 'json5' };
  };

  function watched() {
    const dir = tempDir('lg-watch-');
    const configPath = join(dir, 'openclaw.json');
    writeFileSync(configPath, VALID);
    const verdicts: ConfigVerdict[] = [];
    let validations = 0;
    let wake: () => void = () => {};
    const watcher = new ConfigWatcher({
      configPath,
      validate: () => {
        validations += 1;
        return fileVerdict(configPath);
      },
      onVerdict: (verdict) => {
        verdicts.push(verdict);
        wake();
      },
      intervalMs: 600_000,
      debounceMs: 20,
    });
    const nextVerdict = (timeoutMs = 3_000) => new Promise<ConfigVerdict>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no verdict reported')), timeoutMs);
      wake = () => {
        clearTimeout(timer);
        resolve(verdicts.at(-1)!);
      };
    });
    return { dir, configPath, watcher, nextVerdict, get validations() { return validations; } };
  }

  it('sees a file replaced by rename, as editors and the Gateway write it', async () => {
    const w = watched();
    await w.watcher.start();
    const broken = '{ gateway: ';
    const next = w.nextVerdict();
    writeFileSync(join(w.dir, 'openclaw.json.tmp'), broken);
    renameSync(join(w.dir, 'openclaw.json.tmp'), w.configPath);
    const verdict = await next;
    assert.ok(verdict.valid === false && verdict.kind === 'syntax' && verdict.hash === sha(broken));
    w.watcher.close();
  });

  it('sees an in-place write, a deletion and a re-creation', async () => {
    const w = watched();
    await w.watcher.start();
    let next = w.nextVerdict();
    writeFileSync(w.configPath, `${VALID}// edited\n`);
    assert.equal((await next).hash, sha(`${VALID}// edited\n`));
    next = w.nextVerdict();
    rmSync(w.configPath);
    assert.equal((await next).valid, false);
    next = w.nextVerdict();
    writeFileSync(w.configPath, VALID);
    assert.equal((await next).hash, sha(VALID));
    w.watcher.close();
  });

  it('ignores writes to other files in the directory', async () => {
    const w = watched();
    await w.watcher.start();
    writeFileSync(join(w.dir, 'openclaw.json.bak'), 'whatever');
    writeFileSync(join(w.dir, 'notes.txt'), 'whatever');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(w.validations, 1);
    w.watcher.close();
  });
});

// ---------------------------------------------------------------------------------------------------
// The Gateway's own recovery

/** A fake package: `openclaw.mjs` plays doctor as FAKE_MODE says; Clawdbot's entry leaves a trace if ever run. */
function fakePackage(flavour: Flavour, dir: string): { node: string; entry: string } {
  const root = join(dir, 'node_modules', flavour);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: flavour, version: '0.0.0-test' }));
  const entry = join(root, flavour === 'openclaw' ? 'openclaw.mjs' : 'dist/entry.js');
  writeFileSync(entry, flavour === 'clawdbot' ? String.raw`
import { writeFileSync } from 'node:fs';
writeFileSync(process.env.FAKE_TRACE, 'clawdbot ran ' + process.argv.slice(2).join(' '));
` : String.raw`
import { readFileSync, writeFileSync } from 'node:fs';
const env = process.env;
const config = env.OPENCLAW_CONFIG_PATH;
writeFileSync(env.FAKE_TRACE, JSON.stringify({ args: process.argv.slice(2), policy: env.OPENCLAW_SERVICE_REPAIR_POLICY }));
console.log('┌  OpenClaw doctor\n│\n◇  Config ───╮\n│  Token ' + env.FAKE_SECRET + ' │');
if (env.FAKE_MODE === 'restore') {
  writeFileSync(config + '.clobbered.2026-11-25T10-00-00-000Z', readFileSync(config));
  writeFileSync(config, readFileSync(config + '.last-good'));
  console.error('Config auto-restored from last-known-good: ' + config + ' (doctor-invalid-config) ' + (env.FAKE_ECHO ?? ''));
} else {
  console.error('Config at ' + config + ' is not parseable and cannot be repaired automatically. The file remains unchanged.');
  process.exitCode = 1;
}
`);
  return { node: process.execPath, entry };
}

describe("the Gateway's own last-known-good recovery", () => {
  function setup(flavour: Flavour, mode: string) {
    const dir = tempDir('lg-recover-');
    const configPath = join(dir, 'openclaw.json');
    const trace = join(dir, 'trace');
    writeFileSync(configPath, '{ gateway: ');
    writeFileSync(`${configPath}.last-good`, VALID);
    const runtime = fakePackage(flavour, dir);
    return { dir, configPath, trace, input: { configPath, runtime, env: { FAKE_MODE: mode, FAKE_TRACE: trace, FAKE_SECRET: TOKEN, OPENCLAW_STATE_DIR: dir } } };
  }

  it('refuses to run anything on Clawdbot, whatever it is called', async () => {
    const s = setup('clawdbot', 'restore');
    const result = await runGatewayRecovery(s.input, { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.ran, false);
    assert.match(result.detail, /^refused: .* is clawdbot/);
    assert.equal(existsSync(s.trace), false, 'the Clawdbot CLI was started');
    assert.equal(readFileSync(s.configPath, 'utf8'), '{ gateway: ');
    const lkg = await probeGatewayLastKnownGood(s.input, { timeoutMs: 10_000 });
    assert.equal(lkg.state, 'unsupported');
  });

  it('refuses a CLI that is not inside an OpenClaw package', async () => {
    const s = setup('openclaw', 'restore');
    const stray = join(s.dir, 'openclaw.mjs');
    writeFileSync(stray, readFileSync(s.input.runtime.entry));
    const result = await runGatewayRecovery({ ...s.input, runtime: { node: process.execPath, entry: stray } }, { timeoutMs: 10_000 });
    assert.match(result.detail, /^refused: .* is not part of an OpenClaw package$/);
    assert.equal(existsSync(s.trace), false);
  });

  it('runs OpenClaw doctor --fix non-interactively, hands services to PM2, and reports the restore', async () => {
    const s = setup('openclaw', 'restore');
    const result = await runGatewayRecovery(s.input, { timeoutMs: 10_000 });
    assert.equal(result.ok, true, result.detail);
    assert.equal(result.keptBrokenAs, `${s.configPath}.clobbered.2026-11-25T10-00-00-000Z`);
    assert.equal(result.configChanged, true);
    assert.equal(result.exitCode, 0);
    assert.equal(readFileSync(s.configPath, 'utf8'), VALID);
    assert.deepEqual(JSON.parse(readFileSync(s.trace, 'utf8')), {
      args: ['doctor', '--fix', '--non-interactive', '--no-workspace-suggestions'], policy: 'external',
    });
    assert.match(result.excerpt, /auto-restored from last-known-good/);
  });

  it('reports a doctor that could not restore, without the token', async () => {
    const s = setup('openclaw', 'refuse');
    const result = await runGatewayRecovery(s.input, { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.ran, true);
    assert.equal(result.exitCode, 1);
    assert.equal(result.configChanged, false);
    assert.equal(result.keptBrokenAs, undefined);
    assert.match(result.detail, /exited 1 .* without restoring a last-known-good config: .*not parseable/);
    assert.deepEqual(readdirSync(s.dir).filter((name) => name.includes('clobbered')), []);
  });

  it("keeps the config's token out of what it reports", async () => {
    const s = setup('openclaw', 'restore');
    writeFileSync(s.configPath, `{ gateway: { auth: { token: "${TOKEN}" } } }`);
    const result = await runGatewayRecovery({ ...s.input, env: { ...s.input.env, FAKE_ECHO: `echo ${TOKEN}` } }, { timeoutMs: 10_000 });
    assert.equal(result.ok, true);
    assert.match(result.excerpt, /echo \[redacted\]/);
    assert.ok(!JSON.stringify(result).includes(TOKEN));
  });

  it('reports an absent last-known-good copy', async () => {
    const s = setup('openclaw', 'restore');
    rmSync(`${s.configPath}.last-good`);
    const lkg = await probeGatewayLastKnownGood(s.input, { timeoutMs: 10_000 });
    assert.equal(lkg.state, 'absent');
  });
});

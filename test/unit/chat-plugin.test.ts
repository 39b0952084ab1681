import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedInstance } from '../../src/config/instance.js';
import { installPlugin, pluginStatus } from '../../src/handoff/plugin.js';
import type { GatewayRuntime } from '../../src/runtime/resolve.js';
import { LIFEGUARD_VERSION } from '../../src/version.js';
import { tempDir } from '../helpers/temp-dir.js';

const PLUGIN_DIR = fileURLToPath(new URL('../../plugin/', import.meta.url));

interface ExecResult { error: (Error & { killed?: boolean }) | null; stdout: string; stderr: string }
type Exec = (file: string, args: string[], options: { env: Record<string, string | undefined>; timeout: number }) => Promise<ExecResult>;
interface PluginModule {
  default: { id: string; register(api: { registerCommand(command: Record<string, unknown>): void }): void };
  createHandler(options: { env?: Record<string, string | undefined>; exec?: Exec; timeoutMs?: number }): (ctx: Record<string, unknown>) => Promise<{ text: string }>;
  splitCli(value: string | undefined): { file: string; args: string[] } | undefined;
}

const plugin = (await import(new URL('../../plugin/index.mjs', import.meta.url).href)) as PluginModule;

/** A fake lifeguard: a real file for LIFEGUARD_CLI's Node part, and a recorder of what would run. */
function forwarder(result: Partial<ExecResult> = {}, cliScript = '/opt/life guard/dist/cli.js') {
  const dir = tempDir('lg-plugin-');
  const node = join(dir, 'my node', 'node');
  mkdirSync(join(dir, 'my node'));
  writeFileSync(node, '');
  const calls: Array<{ file: string; args: string[] }> = [];
  const exec: Exec = async (file, args) => {
    calls.push({ file, args });
    return { error: null, stdout: '', stderr: '', ...result };
  };
  return { env: { LIFEGUARD_CLI: `${node} ${cliScript}` }, exec, calls, node };
}

const openclawCtx = (overrides: Record<string, unknown> = {}) => ({
  senderId: 'cli', channel: 'webchat', isAuthorizedSender: true, senderIsOwner: true, assertOwnerCurrent: () => {},
  gatewayClientScopes: ['operator.admin'], args: 'restart   main', commandBody: '/lifeguard restart main', config: { gateway: { auth: { token: 'x' } } },
  ...overrides,
});

describe('the rescue Gateway plugin (plugin/index.mjs)', () => {
  it('registers /lifeguard for both flavours: arguments, authorization, and the scopes that bring OpenClaw\'s owner flag', () => {
    const registered: Array<Record<string, unknown>> = [];
    plugin.default.register({ registerCommand: (command) => registered.push(command) });
    assert.equal(registered.length, 1);
    const command = registered[0]!;
    assert.equal(command.name, 'lifeguard');
    assert.equal(command.acceptsArgs, true);
    assert.equal(command.requireAuth, true);
    assert.deepEqual(command.requiredScopes, ['operator.write']);
    assert.equal(typeof command.handler, 'function');
    assert.equal(plugin.default.id, 'lifeguard');
  });

  it('forwards the words to `lifeguard chat` with the sender and OpenClaw\'s owner verdict, and answers with its output', async () => {
    const f = forwarder({ stdout: '✅ main restarted and healthy after 23 s.\n' });
    const reply = await plugin.createHandler({ env: f.env, exec: f.exec })(openclawCtx());
    assert.deepEqual(reply, { text: '✅ main restarted and healthy after 23 s.' });
    assert.deepEqual(f.calls, [{
      file: f.node,
      args: ['/opt/life guard/dist/cli.js', 'chat', '--sender', 'cli', '--channel', 'webchat', '--owner', '--authorized', '--', 'restart', 'main'],
    }]);
  });

  it('an owner whose authority is no longer current (assertOwnerCurrent throws) is forwarded as not the owner', async () => {
    const f = forwarder({ stdout: 'refused' });
    await plugin.createHandler({ env: f.env, exec: f.exec })(openclawCtx({ assertOwnerCurrent: () => { throw new Error('owner changed'); } }));
    await plugin.createHandler({ env: f.env, exec: f.exec })(openclawCtx({ senderIsOwner: false }));
    assert.deepEqual(f.calls.map((c) => c.args.filter((a) => a.endsWith('owner'))), [['--no-owner'], ['--no-owner']]);
  });

  it('on Clawdbot (no owner flag, no scopes) it passes no verdict, so lifeguard decides from chat.ownerIds', async () => {
    const f = forwarder({ stdout: 'ok' });
    await plugin.createHandler({ env: f.env, exec: f.exec })({ senderId: '123456789', channel: 'telegram', isAuthorizedSender: true, args: undefined, commandBody: '/lifeguard', config: {} });
    assert.deepEqual(f.calls[0]!.args.slice(1), ['chat', '--sender', '123456789', '--channel', 'telegram', '--authorized', '--']);
  });

  it('never throws into the Gateway: no lifeguard, a crash, a timeout each give a short text', async () => {
    const missing = await plugin.createHandler({ env: {} })(openclawCtx());
    assert.match(missing.text, /^⚠️ lifeguard is not reachable from this Gateway: LIFEGUARD_CLI is not set/);
    const gone = await plugin.createHandler({ env: { LIFEGUARD_CLI: '/nonexistent/node /x/cli.js' } })(openclawCtx());
    assert.match(gone.text, /LIFEGUARD_CLI is not set/);
    // lifeguard's own vocabulary of secrets, from the dist/ beside the CLI it runs; without one, nothing is shown.
    const builtCli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const crash = forwarder({ error: new Error('exit 70'), stderr: 'lifeguard: boom token=abcdef123456 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvIn0.c2ln\nstack...' }, builtCli);
    assert.equal((await plugin.createHandler({ env: crash.env, exec: crash.exec })(openclawCtx())).text, '⚠️ lifeguard could not answer: lifeguard: boom token=[redacted] Authorization: [redacted]');
    const older = forwarder({ error: new Error('exit 70'), stderr: 'lifeguard: boom token=abcdef123456' });
    assert.equal((await plugin.createHandler({ env: older.env, exec: older.exec })(openclawCtx())).text, '⚠️ lifeguard could not answer: (details hidden)');
    const slow = forwarder({ error: Object.assign(new Error('killed'), { killed: true }) });
    assert.match((await plugin.createHandler({ env: slow.env, exec: slow.exec, timeoutMs: 5_000 })(openclawCtx())).text, /^⚠️ lifeguard did not answer within 5 s\./);
    const flood = forwarder({ error: Object.assign(new Error('stdout maxBuffer length exceeded'), { killed: true, code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' }) });
    assert.match((await plugin.createHandler({ env: flood.env, exec: flood.exec })(openclawCtx())).text, /^⚠️ lifeguard's answer was longer than 1 MB, so it was stopped/, 'an overflow is no time-out');
    const throwing: Exec = async () => { throw new Error('spawn EACCES'); };
    assert.match((await plugin.createHandler({ env: crash.env, exec: throwing })(openclawCtx())).text, /^⚠️ lifeguard could not answer: spawn EACCES/);
  });

  it('the really spawned `lifeguard chat` answers a phone-sized text', async () => {
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const home = tempDir('lg-plugin-home-');
    const handler = plugin.createHandler({ env: { ...process.env, LIFEGUARD_CLI: `${process.execPath} ${cli}`, LIFEGUARD_HOME: home, LIFEGUARD_CONFIG: '', PM2_HOME: join(home, 'pm2') } });
    const reply = await handler(openclawCtx({ args: 'restart rescue' }));
    assert.equal(reply.text, '❓ The rescue cannot restart itself from its own chat. Send /lifeguard restart main, or on the machine: lifeguard restart rescue');
  });

  it('ships manifests both Gateways accept, naming one entry that exists', () => {
    const openclaw = JSON.parse(readFileSync(join(PLUGIN_DIR, 'openclaw.plugin.json'), 'utf8')) as Record<string, any>;
    const clawdbot = JSON.parse(readFileSync(join(PLUGIN_DIR, 'clawdbot.plugin.json'), 'utf8')) as Record<string, any>;
    const pkg = JSON.parse(readFileSync(join(PLUGIN_DIR, 'package.json'), 'utf8')) as Record<string, any>;
    assert.equal(openclaw.id, 'lifeguard');
    assert.equal(clawdbot.id, 'lifeguard');
    assert.equal(openclaw.activation.onStartup, true);
    for (const manifest of [openclaw, clawdbot]) assert.deepEqual(manifest.configSchema, { type: 'object', additionalProperties: false, properties: {} });
    assert.deepEqual(pkg.openclaw.extensions, ['./index.mjs']);
    assert.deepEqual(pkg.clawdbot.extensions, ['./index.mjs']);
    assert.ok(existsSync(join(PLUGIN_DIR, 'index.mjs')));
  });
});

// ---------------------------------------------------------------------------------------------------

function rescueIn(dir: string, flavour: 'openclaw' | 'clawdbot', config: string | undefined): ResolvedInstance {
  const stateDir = join(dir, 'state-rescue');
  mkdirSync(stateDir, { recursive: true });
  const configPath = join(stateDir, `${flavour}.json`);
  if (config !== undefined) writeFileSync(configPath, config);
  return {
    name: 'rescue', appName: 'gateway-rescue', flavour, profile: 'rescue', port: 1, configPath, stateDir, workspace: join(dir, 'ws'),
    logFile: join(dir, 'log'), token: 'tok-rescue-0123456789', gatewayConfigExists: config !== undefined, bonjour: false, extraEnv: {}, pinnedEndpoints: [],
  };
}

/** A stand-in for OpenClaw's CLI: records its arguments and environment, then does what `config set` would. */
function fakeOpenClaw(dir: string): { runtime: GatewayRuntime; calls: () => Array<{ argv: string[]; env: Record<string, string> }> } {
  const log = join(dir, 'calls.jsonl');
  const entry = join(dir, 'openclaw.mjs');
  writeFileSync(entry, `import { appendFileSync, writeFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }) + '\\n');
// As OpenClaw does, the file is written anew as plain JSON (comments gone).
writeFileSync(process.env.OPENCLAW_CONFIG_PATH, JSON.stringify({ gateway: { mode: 'local' }, plugins: { entries: { lifeguard: { enabled: true } } } }, null, 2));
`);
  chmodSync(entry, 0o755);
  return {
    runtime: { flavour: 'openclaw', entry, node: process.execPath, version: '2026.9.6', source: 'configured' },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; env: Record<string, string> }) : []),
  };
}

describe('installing the plugin on the rescue (src/handoff/plugin.ts)', () => {
  const homes = (dir: string) => ({ userHome: join(dir, 'home'), lifeguardHome: join(dir, 'lg') });

  it('Clawdbot: copied into the rescue state dir, its config untouched; then current, and an old copy is updated', async () => {
    const dir = tempDir('lg-plugin-cb-');
    const config = '// mine\n{ gateway: { mode: "local" } }\n';
    const rescue = rescueIn(dir, 'clawdbot', config);
    assert.equal((await pluginStatus(rescue)).state, 'missing');
    const installed = await installPlugin(rescue, fakeOpenClaw(dir).runtime, homes(dir));
    assert.deepEqual({ state: installed.state, changed: installed.changed }, { state: 'current', changed: true });
    assert.equal(installed.path, join(rescue.stateDir, 'extensions', 'lifeguard'));
    assert.equal(readFileSync(rescue.configPath, 'utf8'), config, 'the rescue config is not touched on Clawdbot');
    assert.equal(readFileSync(join(installed.path, 'index.mjs'), 'utf8'), readFileSync(join(PLUGIN_DIR, 'index.mjs'), 'utf8'));
    assert.equal((JSON.parse(readFileSync(join(installed.path, 'package.json'), 'utf8')) as { version: string }).version, LIFEGUARD_VERSION);
    assert.deepEqual(await pluginStatus(rescue), { state: 'current', detail: `the lifeguard plugin is installed in ${installed.path}`, path: installed.path });
    assert.equal((await installPlugin(rescue, fakeOpenClaw(dir).runtime, homes(dir))).changed, false);

    writeFileSync(join(installed.path, 'index.mjs'), '// an older plugin\n');
    const outdated = await pluginStatus(rescue);
    assert.equal(outdated.state, 'outdated');
    assert.match(outdated.detail, /holds another version of the lifeguard plugin \(index\.mjs differs\)/);
    const updated = await installPlugin(rescue, fakeOpenClaw(dir).runtime, homes(dir));
    assert.match(updated.detail, /^updated the lifeguard plugin in .*; a running rescue Gateway uses it from its next start$/);
    assert.equal((await pluginStatus(rescue)).state, 'current');
  });

  it('OpenClaw: enables it with OpenClaw\'s own `config set`, as PM2 runs the rescue, keeping the file as it was', async () => {
    const dir = tempDir('lg-plugin-oc-');
    const original = '// the owner\'s comment\n{ "gateway": { "mode": "local" } }\n';
    const rescue = rescueIn(dir, 'openclaw', original);
    const openclaw = fakeOpenClaw(dir);
    const installed = await installPlugin(rescue, openclaw.runtime, homes(dir));
    assert.equal(installed.state, 'current', installed.detail);
    const calls = openclaw.calls();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.argv, ['config', 'set', 'plugins.entries.lifeguard.enabled', 'true']);
    assert.equal(calls[0]!.env.OPENCLAW_CONFIG_PATH, rescue.configPath, 'only the rescue config');
    assert.equal(calls[0]!.env.OPENCLAW_STATE_DIR, rescue.stateDir);
    assert.equal(readFileSync(`${rescue.configPath}.before-lifeguard-plugin`, 'utf8'), original);
    assert.match(installed.detail, /enabled it in .*\(the file as it was is kept as .*\.before-lifeguard-plugin\)/);
    assert.equal((await pluginStatus(rescue)).state, 'current');
    await installPlugin(rescue, openclaw.runtime, homes(dir));
    assert.equal(openclaw.calls().length, 1, 'nothing runs when all is current');
  });

  it('OpenClaw: without the entry, installed files are not enough', async () => {
    const dir = tempDir('lg-plugin-oc2-');
    const rescue = rescueIn(dir, 'openclaw', '{ "gateway": { "mode": "local" } }');
    await installPlugin(rescue, fakeOpenClaw(dir).runtime, homes(dir));
    writeFileSync(rescue.configPath, '{ "gateway": { "mode": "local" } }');
    const status = await pluginStatus(rescue);
    assert.equal(status.state, 'missing');
    assert.match(status.detail, /installed in .*, but the rescue will not load it: it is not enabled in .* \(plugins\.entries\.lifeguard\.enabled\)$/);
  });

  it("the owner's explicit no is respected and named: disabled, denied, not in the allowlist, a broken config", async () => {
    const cases: Array<[string, RegExp]> = [
      ['{ plugins: { entries: { lifeguard: { enabled: false } } } }', /disabled in .* \(plugins\.entries\.lifeguard\.enabled: false\)/],
      ['{ plugins: { deny: ["lifeguard"] } }', /denies it \(plugins\.deny\)/],
      ['{ plugins: { allow: ["voice-call"] } }', /plugins\.allow in .* does not list "lifeguard"/],
      ['{ plugins: { enabled: false } }', /plugins are turned off/],
      ['{ plugins: ', /cannot read .*: JSON5: invalid end of input/],
    ];
    for (const [config, why] of cases) {
      const dir = tempDir('lg-plugin-no-');
      const rescue = rescueIn(dir, 'openclaw', config);
      const openclaw = fakeOpenClaw(dir);
      const result = await installPlugin(rescue, openclaw.runtime, homes(dir));
      assert.equal(result.state, 'missing', config);
      assert.match(result.detail, why, config);
      assert.equal(readFileSync(rescue.configPath, 'utf8'), config, 'left alone');
      assert.deepEqual(openclaw.calls(), []);
    }
  });

  it('lives in the rescue state dir only; an OpenClaw rescue without a config yet is not touched', async () => {
    const dir = tempDir('lg-plugin-dir-');
    const rescue = rescueIn(dir, 'openclaw', undefined);
    const openclaw = fakeOpenClaw(dir);
    const result = await installPlugin(rescue, openclaw.runtime, homes(dir));
    assert.equal(result.path, join(rescue.stateDir, 'extensions', 'lifeguard'));
    assert.equal(result.state, 'missing');
    assert.match(result.detail, /the rescue has no config yet/);
    assert.deepEqual(openclaw.calls(), []);
  });
});

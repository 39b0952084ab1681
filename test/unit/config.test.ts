import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { tempDir } from '../helpers/temp-dir.js';
import { join } from 'node:path';
import { loadConfig, parseConfig, resolveConfigPath } from '../../src/config/load.js';
import { UserError } from '../../src/core/errors.js';

const context = { source: '/etc/lifeguard/lifeguard.json5', home: '/home/u/.lifeguard', userHome: '/home/u', env: {} };

function parseError(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, { ...context, env });
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the config to be refused');
}

describe('config parsing', () => {
  it('fills every default from an empty file', () => {
    const config = parseConfig({}, context);
    assert.equal(config.gateway.flavour, 'auto');
    assert.equal(config.instances.main.port, 18789);
    assert.equal(config.instances.main.profile, 'default');
    assert.equal(config.instances.rescue.port, 19789);
    assert.equal(config.instances.rescue.profile, 'rescue');
    assert.equal(config.probes.failureThreshold, 3);
    assert.equal(config.probes.successThreshold, 2);
  });

  const refusals: Array<{ name: string; raw: unknown; mentions: string[] }> = [
    { name: 'port out of range', raw: { instances: { main: { port: 70000 } } }, mentions: ['instances.main.port', '70000', 'Fix:'] },
    { name: 'port too close to the top for its derived range', raw: { instances: { rescue: { port: 65500 } } }, mentions: ['instances.rescue.port', '65500'] },
    { name: 'wrong type', raw: { probes: { intervalMs: 'fast' } }, mentions: ['probes.intervalMs', '"fast"'] },
    { name: 'unknown top-level key', raw: { gatway: {} }, mentions: ['"gatway"', 'unknown key'] },
    { name: 'unknown nested key', raw: { instances: { main: { prot: 1 } } }, mentions: ['instances.main', '"prot"'] },
    { name: 'bad flavour', raw: { gateway: { flavour: 'moltbot' } }, mentions: ['gateway.flavour', '"moltbot"'] },
    { name: 'bad profile name', raw: { instances: { rescue: { profile: '../x' } } }, mentions: ['instances.rescue.profile'] },
    { name: 'relative path escaping the config folder', raw: { instances: { main: { configPath: '../../etc/passwd' } } }, mentions: ['instances.main.configPath', 'escapes'] },
    { name: 'top level not an object', raw: [1, 2], mentions: ['<root>'] },
  ];
  for (const { name, raw, mentions } of refusals) {
    it(`refuses ${name} with the key, the value and a fix`, () => {
      const message = parseError(raw);
      for (const fragment of mentions) assert.ok(message.includes(fragment), `"${fragment}" missing from:\n${message}`);
    });
  }

  it('refuses extra env that would override what lifeguard sets for isolation', () => {
    const message = parseError({ instances: { rescue: { env: { OPENCLAW_STATE_DIR: '/tmp/x', 'BAD-NAME': 'y' } } } });
    assert.match(message, /instances\.rescue\.env\.OPENCLAW_STATE_DIR: the name is set by lifeguard itself/);
    assert.match(message, /must be an environment variable name/);
    assert.deepEqual(parseConfig({ instances: { main: { env: { ANTHROPIC_API_KEY: 'k' } } } }, context).instances.main.env, { ANTHROPIC_API_KEY: 'k' });
  });

  it('lets LIFEGUARD_GATEWAY_BIN and LIFEGUARD_GATEWAY_NODE override the file', () => {
    const config = parseConfig({ gateway: { bin: '/opt/a/openclaw.mjs', node: '/opt/a/node' } }, {
      ...context, env: { LIFEGUARD_GATEWAY_BIN: '/srv/b/openclaw.mjs', LIFEGUARD_GATEWAY_NODE: '/srv/b/node' },
    });
    assert.equal(config.gateway.bin, '/srv/b/openclaw.mjs');
    assert.equal(config.gateway.node, '/srv/b/node');
  });

  it('resolves ~ and relative paths against the home and the config folder', () => {
    assert.equal(resolveConfigPath('~/x/openclaw.json', '/etc/lifeguard', '/home/u'), '/home/u/x/openclaw.json');
    assert.equal(resolveConfigPath('state/main', '/etc/lifeguard', '/home/u'), '/etc/lifeguard/state/main');
    assert.throws(() => resolveConfigPath('../elsewhere', '/etc/lifeguard', '/home/u'), /escapes/);
  });
});

describe('config file lookup', () => {
  it('uses LIFEGUARD_CONFIG, then ./lifeguard.json5, then $LIFEGUARD_HOME/lifeguard.json5, then defaults', async () => {
    const dir = tempDir('lg-config-');
    const home = join(dir, 'lghome');
    const cwd = join(dir, 'cwd');
    await Promise.all([mkdir(home), mkdir(cwd)]);
    const env = { HOME: dir, LIFEGUARD_HOME: home };
    assert.equal((await loadConfig({ env, cwd })).source, undefined);
    await writeFile(join(home, 'lifeguard.json5'), '{ instances: { main: { port: 21000 } } }');
    assert.equal((await loadConfig({ env, cwd })).instances.main.port, 21000);
    await writeFile(join(cwd, 'lifeguard.json5'), '// comments are fine\n{ instances: { main: { port: 22000, }, }, }');
    assert.equal((await loadConfig({ env, cwd })).instances.main.port, 22000);
    await writeFile(join(dir, 'explicit.json5'), '{ instances: { main: { port: 23000 } } }');
    assert.equal((await loadConfig({ env: { ...env, LIFEGUARD_CONFIG: join(dir, 'explicit.json5') }, cwd })).instances.main.port, 23000);
  });

  it('names the file, line and column of a JSON5 syntax error', async () => {
    const dir = tempDir('lg-config-');
    const file = join(dir, 'broken.json5');
    await writeFile(file, '{ instances: { main: { port: 1 }\n');
    await assert.rejects(loadConfig({ env: { HOME: dir, LIFEGUARD_CONFIG: file }, cwd: dir }), (error: Error) =>
      error instanceof UserError && error.message.includes(file) && /line 2|2:/.test(error.message));
  });

  it('reports an unreadable config file', async () => {
    const dir = tempDir('lg-config-');
    await assert.rejects(loadConfig({ env: { HOME: dir, LIFEGUARD_CONFIG: join(dir, 'missing.json5') }, cwd: dir }), /Cannot read the lifeguard config/);
  });
});

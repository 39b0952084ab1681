import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../../src/core/duration.js';
import { UserError } from '../../src/core/errors.js';
import { parsePauseLength } from '../../src/incidents/pauses.js';
import { commandModulesFor } from '../../src/surfaces/commands/registry.js';
import { configFix } from '../../src/surfaces/repair/config-report.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('the CLI as an owner meets it', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, cwd: home, encoding: 'utf8' });

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'lg-cli-'));
    mkdirSync(join(home, 'lifeguard'));
    // No PM2 daemon here: a PM2_HOME of its own that nothing runs in.
    env = { PATH: process.env.PATH, HOME: home, LIFEGUARD_HOME: join(home, 'lifeguard'), PM2_HOME: join(home, 'pm2') };
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('-v and --version print the version', () => {
    for (const flag of ['-v', '--version']) {
      const result = cli(flag);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), VERSION);
    }
  });

  it('a typo in lifeguard.json5 does not stop status, diagnose, logs or incidents: they warn and go on', () => {
    writeFileSync(join(home, 'lifeguard.json5'), '{ notfy: [] }\n');
    try {
      const status = cli('status', '--json');
      assert.equal(status.status, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { instances: unknown[] }).instances.length, 2);
      for (const args of [['logs', 'main', '--lines', '5'], ['incidents'], ['diagnose', 'main', '--json']]) {
        const result = cli(...args);
        assert.notEqual(result.status, 70, `${args.join(' ')}: ${result.stderr}`);
        assert.notEqual(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /Warning: Invalid lifeguard config in .*lifeguard\.json5:\n- the top level: unknown key "notfy"[^]*Going on with the built-in defaults/, args.join(' '));
        assert.doesNotMatch(result.stderr, /Nothing was started/);
      }
      // `check` is where the file is judged: it refuses, and says what is wrong.
      const check = cli('check');
      assert.equal(check.status, 1);
      assert.match(check.stderr, /unknown key "notfy"/);
      assert.doesNotMatch(check.stderr, /Nothing was started/);
    } finally {
      rmSync(join(home, 'lifeguard.json5'));
    }
  });

  it('check prints its answer on stdout and its warnings on stderr', () => {
    const check = cli('check');
    assert.match(check.stdout, /Pre-start check OK/);
    assert.doesNotMatch(check.stdout, /Warning/);
    assert.match(check.stderr, /Warning: no alert destination is configured/);
  });

  it('restart --timeout takes the grammar of pause --for, and names the range it allows', () => {
    const result = cli('restart', 'main', '--timeout', '2h');
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--timeout must last between 5s and 1h \(got 2h\)/);
  });
});

describe('one duration grammar', () => {
  const range = { what: '--timeout', minMs: 5_000, maxMs: 3_600_000 };
  it('reads units, combinations and bare seconds', () => {
    assert.deepEqual(['500ms', '90', '90s', '3m', '1h', '1h30m', '2m 30s', '1d'].map((text) => parseDuration(text, { ...range, minMs: 0, maxMs: Infinity })),
      [500, 90_000, 90_000, 180_000, 3_600_000, 5_400_000, 150_000, 86_400_000]);
  });
  it('refuses what is not a duration, or out of range, as a usage error naming the range', () => {
    for (const bad of ['soon', '-5s', '1x', '', '5 5s']) {
      assert.throws(() => parseDuration(bad, range), (error: unknown) => error instanceof UserError && error.exitCode === 2 && /is not a duration/.test(error.message), bad);
    }
    assert.throws(() => parseDuration('2h', range), /--timeout must last between 5s and 1h \(got 2h\)/);
    assert.throws(() => parsePauseLength('30s'), /a pause must last between 1m and 7d \(got 30s\)/);
    assert.equal(parsePauseLength('1h30m'), 5_400_000);
  });
});

describe('command modules', () => {
  it('loads only the module of the command asked for, none for --version, all for help or an unknown command', () => {
    assert.equal(commandModulesFor(['status', '--json']).length, 1);
    assert.equal(commandModulesFor(['-v']).length, 0);
    assert.equal(commandModulesFor(['restart', 'main'])[0], commandModulesFor(['logs', 'main'])[0], 'one module declares restart and logs');
    const all = commandModulesFor(['--help']).length;
    assert.ok(all > 5);
    assert.equal(commandModulesFor(['bogus']).length, all);
    assert.equal(commandModulesFor([]).length, all);
  });
});

describe('the fix for an invalid config', () => {
  it('suggests a restore only when there is a snapshot to restore', () => {
    assert.equal(configFix('main', '/c/openclaw.json', 2), 'npx lifeguard config diff main, then npx lifeguard config restore main (or edit the file)');
    assert.match(configFix('main', '/c/openclaw.json', 0), /^edit \/c\/openclaw\.json \(there is no snapshot to restore yet/);
  });
});

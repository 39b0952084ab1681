import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLeftoverApp } from '../../src/launch/leftovers.js';
import { restartAlert } from '../../src/launch/run-record.js';
import { systemdUnit } from '../../src/launch/systemd-unit.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('the boot service unit', () => {
  const unit = systemdUnit({
    user: 'ann', node: '/opt/node 24/bin/node', cli: '/srv/life guard/dist/cli.js', workingDirectory: '/home/ann/.lifeguard',
    env: { HOME: '/home/ann', PM2_HOME: '/home/ann/.pm2', LIFEGUARD_CONFIG: '/home/ann/100%/lifeguard.json5' },
  });
  const lines = unit.split('\n');

  it('runs `lifeguard run` as the owner, and starts it again whenever it ends (boot, crash, a dead PM2)', () => {
    assert.ok(lines.includes('[Service]') && lines.includes('[Install]'));
    assert.ok(lines.includes('ExecStart="/opt/node 24/bin/node" "/srv/life guard/dist/cli.js" run'), unit);
    assert.ok(lines.includes('Type=simple'));
    assert.ok(lines.includes('Restart=always'));
    assert.ok(lines.includes('User=ann'));
    assert.ok(lines.includes('WantedBy=multi-user.target'));
  });

  it('passes the same homes and config file, quoted for systemd (spaces, %)', () => {
    assert.ok(lines.includes('Environment="PM2_HOME=/home/ann/.pm2"'));
    assert.ok(lines.includes('Environment="LIFEGUARD_CONFIG=/home/ann/100%%/lifeguard.json5"'), unit);
    assert.ok(lines.includes('WorkingDirectory="/home/ann/.lifeguard"'));
  });

  it('gives `run` time to stop the Gateways (they drain for up to 20 s each) before systemd kills them', () => {
    const stop = Number(lines.find((line) => line.startsWith('TimeoutStopSec='))?.split('=')[1]);
    assert.ok(stop >= 60, unit);
  });
});

describe('after a dead PM2', () => {
  it('recognises the apps a PM2 of this lifeguard home started, and nothing else', () => {
    assert.equal(isLeftoverApp(['pm_id=0', 'LIFEGUARD_HOME=/h/.lifeguard', 'LIFEGUARD_INSTANCE=main'], '/h/.lifeguard'), true);
    assert.equal(isLeftoverApp(['pm_id=2', 'LIFEGUARD_HOME=/h/.lifeguard'], '/h/.lifeguard'), true, 'the supervisor');
    assert.equal(isLeftoverApp(['LIFEGUARD_HOME=/h/.lifeguard'], '/h/.lifeguard'), false, 'a shell or a CLI run of the owner');
    assert.equal(isLeftoverApp(['pm_id=0', 'LIFEGUARD_HOME=/other'], '/h/.lifeguard'), false, 'another lifeguard');
  });

  it('tells the owner how the previous run ended, once it is started again', () => {
    const now = Date.parse('2026-12-02T21:00:00Z');
    const died = restartAlert({ pid: 10, pm2Pid: 11, startedAt: now - 3_600_000, pm2Died: { at: now - 8_000, code: null, signal: 'SIGKILL' } }, false, now, 'box');
    assert.equal(died?.severity, 'warning');
    assert.match(died?.summary ?? '', /^On box, lifeguard's PM2 died at 2026-12-02T20:59:52\.000Z \(signal SIGKILL\), taking the Gateways and the supervisor with it\. lifeguard started PM2, both Gateways and the supervisor again at 2026-12-02T21:00:00\.000Z\.$/);
    const killed = restartAlert({ pid: 10, pm2Pid: 11, startedAt: now - 3_600_000 }, false, now, 'box');
    assert.match(killed?.summary ?? '', /the previous `lifeguard run` \(pid 10, .*\) ended without stopping the stack/);
    assert.equal(restartAlert(undefined, false, now, 'box'), undefined, 'a clean stop leaves no record');
  });
});

describe('service and uninstall on this machine', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, cwd: home, encoding: 'utf8' });
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'lg-life-'));
    env = { PATH: process.env.PATH, HOME: home, LIFEGUARD_HOME: join(home, 'lg'), PM2_HOME: join(home, 'pm2') };
    mkdirSync(join(home, '.openclaw'), { recursive: true });
    writeFileSync(join(home, '.openclaw', 'openclaw.json'), '{}\n');
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('service install --print prints the unit for this shell\'s homes', () => {
    const printed = cli('service', 'install', '--print');
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, new RegExp(`Environment="LIFEGUARD_HOME=${join(home, 'lg')}"`));
    assert.match(printed.stdout, /cli\.js" run$/m);
  });

  it('without systemd, service install says what to use instead', { skip: existsSync('/run/systemd/system') }, () => {
    const install = cli('service', 'install');
    assert.equal(install.status, 1);
    assert.match(install.stderr, /does not run systemd[^]*CMD \["npx", "lifeguard", "run"\][^]*while true; do npx lifeguard run; sleep 5; done/);
  });

  it("uninstall --gateway-data alone deletes nothing and names what a second ask would delete", () => {
    const once = cli('uninstall', '--gateway-data', '--state');
    assert.equal(once.status, 3, once.stderr);
    assert.match(once.stderr, new RegExp(`${join(home, '.openclaw')}[^]*Nothing was removed[^]*--yes-delete-gateway-data`));
    assert.equal(existsSync(join(home, '.openclaw', 'openclaw.json')), true);
  });

  it("uninstall keeps the Gateways' data and lifeguard.json5, and removes lifeguard's state on request", () => {
    mkdirSync(join(home, 'lg', 'incidents'), { recursive: true });
    writeFileSync(join(home, 'lg', 'events.jsonl'), '{}\n');
    writeFileSync(join(home, 'lg', 'lifeguard.json5'), '{}\n');
    const result = cli('uninstall', '--state');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(existsSync(join(home, 'lg', 'incidents')), false);
    assert.equal(existsSync(join(home, 'lg', 'events.jsonl')), false);
    assert.equal(existsSync(join(home, 'lg', 'lifeguard.json5')), true);
    assert.equal(existsSync(join(home, '.openclaw', 'openclaw.json')), true);
    assert.match(result.stderr, /The Gateways' own configs and state were kept/);
  });
});

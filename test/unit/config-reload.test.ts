import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSON5 from 'json5';
import { createLogger } from '../../src/core/log.js';
import { loadConfig, parseConfig, strayConfigWarning, type LifeguardConfig } from '../../src/config/load.js';
import { recordConfigInEffect } from '../../src/config/in-effect.js';
import { planReload } from '../../src/config/reload.js';
import { STARTER_CONFIG, writeStarterConfig } from '../../src/config/starter.js';
import { startConfigReloader } from '../../src/daemon/config-reload.js';
import type { Alert } from '../../src/notify/types.js';

const silent = createLogger({ level: 'silent' });
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-reload-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const context = { source: '/home/u/.lifeguard/lifeguard.json5', home: '/home/u/.lifeguard', userHome: '/home/u', env: {} };
const config = (raw: unknown): LifeguardConfig => parseConfig(raw, context);
const webhook = { type: 'webhook', name: 'hook', url: 'https://example.com/hook' };

describe('reload policy', () => {
  it('applies a new notify entry and probe settings at once', () => {
    const plan = planReload(config({}), { ok: true, config: config({ notify: [webhook], probes: { intervalMs: 5_000 } }) });
    assert.equal(plan.kind, 'accepted');
    if (plan.kind !== 'accepted') return;
    assert.deepEqual(plan.applied, ['notify', 'probes']);
    assert.deepEqual(plan.pending, []);
    assert.deepEqual(plan.effective.notify, [webhook]);
    assert.equal(plan.effective.probes.intervalMs, 5_000);
  });

  it('holds back a port change (Gateways) and an alert timer (lifeguard) as pending, keeping the running values', () => {
    const running = config({});
    const plan = planReload(running, { ok: true, config: config({ instances: { main: { port: 28789 } }, alerts: { resolveAfterMs: 1_000 }, notify: [webhook] }) });
    assert.equal(plan.kind, 'accepted');
    if (plan.kind !== 'accepted') return;
    assert.deepEqual(plan.applied, ['notify']);
    assert.deepEqual(plan.pending, [{ section: 'instances', needs: 'gateways' }, { section: 'alerts', needs: 'lifeguard' }]);
    assert.equal(plan.effective.instances.main.port, 18789);
    assert.equal(plan.effective.alerts.resolveAfterMs, running.alerts.resolveAfterMs);
  });

  it('rejects the whole edit when the file does not load or a notify entry cannot be used', () => {
    assert.deepEqual(planReload(config({}), { ok: false, error: 'not valid JSON5' }), { kind: 'rejected', errors: ['not valid JSON5'] });
    const plan = planReload(config({}), { ok: true, config: config({ notify: [{ type: 'webhook' }], probes: { intervalMs: 5_000 } }) });
    assert.equal(plan.kind, 'rejected');
    assert.match(plan.kind === 'rejected' ? plan.errors.join() : '', /url is required/);
  });
});

describe('config reloader', () => {
  it('applies an edit, reports a broken one once through the alert path and keeps the last good settings', async () => {
    const dir = tempDir();
    const file = join(dir, 'lifeguard.json5');
    writeFileSync(file, '{}\n');
    const env = { HOME: dir, LIFEGUARD_HOME: dir, LIFEGUARD_CONFIG: file };
    let running = await loadConfig({ env, cwd: dir });
    const alerts: Alert[] = [];
    const applied: string[][] = [];
    const reloader = startConfigReloader({
      file, running: () => running, load: () => loadConfig({ env, cwd: dir }), log: silent, host: 'vps1', now: () => 1_000, pollMs: 3_600_000,
      alert: async (alert) => alerts.push(alert),
      apply: (next, sections) => {
        running = next;
        applied.push([...sections]);
      },
    });
    try {
      await reloader.check();
      assert.deepEqual(applied, [], 'the file as it was at start changes nothing');
      writeFileSync(file, `{ notify: [${JSON.stringify(webhook)}], instances: { rescue: { port: 29789 } } }\n`);
      await reloader.check();
      assert.deepEqual(applied, [['notify']]);
      assert.deepEqual(reloader.status().pending, [{ section: 'instances', needs: 'gateways' }]);
      assert.equal(reloader.status().pendingFix, 'npx lifeguard down && npx lifeguard up');
      assert.equal(running.instances.rescue.port, 19789);

      writeFileSync(file, '{ notify: [ }\n');
      await reloader.check();
      writeFileSync(file, '{ notify: [ } \n');
      await reloader.check();
      assert.match(reloader.status().error ?? '', /not valid JSON5/);
      assert.equal(alerts.length, 1, 'the same problem again is not alerted twice');
      assert.equal(alerts[0]!.event, 'config-invalid');
      assert.equal(alerts[0]!.instance, 'lifeguard');
      assert.deepEqual(alerts[0]!.commands, ['npx lifeguard check']);
      assert.deepEqual(running.notify, [webhook], 'the last good settings stay');
    } finally {
      reloader.stop();
    }
  });
});

describe('starter config and the file in effect', () => {
  it('writes a commented starter that means the built-in defaults, once, mode 0600, never over a file', async () => {
    const dir = tempDir();
    const file = join(dir, 'lg', 'lifeguard.json5');
    assert.equal(await writeStarterConfig(file), true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(config(JSON5.parse(STARTER_CONFIG)), config({}));
    writeFileSync(file, '{ logLevel: "debug" }');
    assert.equal(await writeStarterConfig(file), false);
    assert.equal(readFileSync(file, 'utf8'), '{ logLevel: "debug" }');
  });

  it('commands from any folder read the file in effect; a different ./lifeguard.json5 is warned about', async () => {
    const dir = tempDir();
    const home = join(dir, 'lg');
    const cwd = join(dir, 'elsewhere');
    await Promise.all([mkdir(home), mkdir(cwd)]);
    const inEffect = join(dir, 'lifeguard-folder', 'lifeguard.json5');
    await mkdir(join(dir, 'lifeguard-folder'));
    await writeFile(inEffect, '{ instances: { main: { port: 21000 } } }');
    await recordConfigInEffect(home, inEffect);
    const env = { HOME: dir, LIFEGUARD_HOME: home };
    assert.equal((await loadConfig({ env, cwd })).source, inEffect);
    assert.equal(strayConfigWarning(env, cwd), undefined);
    await writeFile(join(cwd, 'lifeguard.json5'), '{ instances: { main: { port: 22000 } } }');
    assert.equal((await loadConfig({ env, cwd })).instances.main.port, 21000);
    assert.match(strayConfigWarning(env, cwd) ?? '', /elsewhere\/lifeguard\.json5 is not the lifeguard config in effect/);
    await writeFile(join(cwd, 'lifeguard.json5'), '{ instances: { main: { port: 21000 } } }');
    assert.equal(strayConfigWarning(env, cwd), undefined, 'a copy with the same content is harmless');
  });
});

/**
 * End-to-end R3 against the real OpenClaw Gateways under a real PM2: with no restore to try (R2 off),
 * a crash on a broken config is handed to the rescue bot (brief in its workspace, lease, the main fenced),
 * and the "rescue" (this test, running the commands the brief lists) repairs it and closes the incident.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { LifeguardRun, describeResult, instanceOf, pollUntil, runCommand, runtimePaths } from '../helpers/harness.js';

describe('R3: handing the main to the rescue bot (OpenClaw)', { timeout: 20 * 60_000 }, () => {
  let lg: AlertedRun;
  let run: LifeguardRun;
  let rescueWorkspace = '';
  let rescueEnv: Record<string, string> = {};
  let ready = false;
  const mainConfig = () => join(run.home, '.openclaw', 'openclaw.json');
  const main = async () => instanceOf(await run.status(), 'main');
  /** A lifeguard command as the rescue agent runs it: `$LIFEGUARD_CLI ...` in the rescue Gateway's own environment. */
  const asRescue = (args: string, timeoutMs = 60_000) =>
    runCommand('/bin/sh', ['-c', `$LIFEGUARD_CLI ${args}`], { env: rescueEnv, cwd: run.dir, timeoutMs });
  const incident = (id: string) => lg.incident(id);
  const waitForEvent: AlertedRun['waitForEvent'] = (...args) => lg.waitForEvent(...args);

  before(async () => {
    lg = await startAlertedRun({
      flavour: 'openclaw',
      config: [
        // R2 off (a last-known-good exists from the first healthy start): the ladder goes on to the rescue.
        '  escalation: { restoreAttempts: 0 },',
        '  handoff: { leaseMs: 60000, ackDeadlineMs: 30000 },',
      ],
      eventPollMs: 200,
    });
    ({ run } = lg);
  });

  after(() => lg?.teardown());

  it('comes up with the lifeguard skill in the rescue workspace, valid for the rescue Gateway', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(180_000);
    const layout = JSON.parse((await run.cli(['check', '--json'])).stdout) as { instances: Array<{ name: string; workspace: string; configPath: string; stateDir: string }> };
    const rescue = layout.instances.find((i) => i.name === 'rescue')!;
    rescueWorkspace = rescue.workspace;
    assert.ok(existsSync(join(rescueWorkspace, 'skills', 'lifeguard', 'SKILL.md')));
    const apps = await run.pm2List();
    rescueEnv = Object.fromEntries(Object.entries(apps.find((a) => a.name === 'gateway-rescue')!.pm2_env.env ?? {}).map(([k, v]) => [k, String(v)]));
    // The standing handoff: the rescue always knows its patient and how to reach lifeguard.
    assert.equal(rescueEnv.LIFEGUARD_MAIN_CONFIG_PATH, mainConfig());
    assert.equal(rescueEnv.LIFEGUARD_MAIN_PORT, String(run.ports.main));
    assert.ok(rescueEnv.LIFEGUARD_MAIN_STATE_DIR && rescueEnv.LIFEGUARD_CLI);
    const paths = runtimePaths('openclaw');
    const info = await runCommand(paths.node, [paths.entry, 'skills', 'info', 'lifeguard'], { env: { ...rescueEnv, NO_COLOR: '1' }, cwd: rescue.stateDir, timeoutMs: 120_000 });
    assert.equal(info.code, 0, describeResult(info));
    assert.match(info.stdout, /lifeguard/);
    assert.doesNotMatch(info.stdout, /Missing requirements/, describeResult(info));
    ready = true;
  });

  let id = '';
  it('a crash on a broken config with no restore to try is handed to the rescue: brief written, lease granted, main fenced', { timeout: 5 * 60_000 }, async () => {
    assert.ok(ready);
    const good = readFileSync(mainConfig(), 'utf8');
    writeFileSync(`${run.dir}/good.json`, good);
    writeFileSync(mainConfig(), `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
    await waitForEvent('config-invalid', (e) => e.event === 'config-invalid', 30_000);
    process.kill((await main()).pid!, 'SIGKILL');
    const escalated = await waitForEvent('the handoff', (e) => e.event === 'escalated', 120_000);
    id = escalated.incidentId!;
    assert.match(String(escalated.body.summary), /rescue bot/);
    const brief = join(rescueWorkspace, 'LIFEGUARD_INCIDENT.md');
    await pollUntil('the brief', () => existsSync(brief) && existsSync(join(rescueWorkspace, 'LIFEGUARD_INCIDENT.json')), { timeoutMs: 60_000 });
    assert.equal(statSync(brief).mode & 0o777, 0o600);
    const text = readFileSync(brief, 'utf8');
    assert.ok(text.includes(mainConfig()), 'the brief names the main config path');
    assert.ok(text.includes('skills/lifeguard/SKILL.md'), 'the brief points to the skill');
    assert.match(text, new RegExp(`incident ack ${id}`));
    const token = (JSON.parse(good) as { gateway: { auth: { token: string } } }).gateway.auth.token;
    assert.ok(!text.includes(token), 'no secret in the brief');
    const record = await pollUntil('the lease', async () => { const r = await incident(id); return r.lease ? r : undefined; }, { timeoutMs: 30_000 });
    assert.equal(record.rung, 'R3');
    const notes = record.timeline.map((e) => e.text);
    assert.ok(notes.some((t) => t.startsWith('R2 → R3')), notes.join('\n'));
    const handoff = record.actions.find((a) => a.action === 'handoff');
    assert.match(handoff?.detail ?? '', /rescue agent: (asked to act|could not be woken)/, 'the wake-up is attempted and its outcome recorded');
    await pollUntil('the main fenced while the rescue holds it', async () => /rescue bot holds it/.test((await main()).automationHeld ?? ''), { timeoutMs: 15_000 });
  });

  it('the rescue acknowledges; when its lease runs out without a fix the owner is paged (R4) and the main stays frozen', { timeout: 4 * 60_000 }, async () => {
    assert.ok(id);
    const ack = await asRescue(`incident ack ${id} --by rescue-agent --json`);
    assert.equal(ack.code, 0, describeResult(ack));
    assert.ok((await incident(id)).lease?.ackedAt);
    const page = await waitForEvent('the R4 page', (e) => e.event === 'escalated' && e.incidentId === id && /needs you/.test(String(e.body.summary)), 120_000);
    assert.match(String(page.body.summary), /lease of 1 min ran out/);
    assert.equal((await incident(id)).frozen, true);
  });

  it('the rescue repairs with its own commands (diagnose, edit, restart, resolve); the brief is archived', { timeout: 5 * 60_000 }, async () => {
    assert.ok(id);
    const diagnosis = await asRescue('diagnose main --json');
    assert.equal(diagnosis.code, 1, describeResult(diagnosis));
    assert.equal((JSON.parse(diagnosis.stdout) as { verdict: string }).verdict, 'config-invalid');
    writeFileSync(mainConfig(), readFileSync(`${run.dir}/good.json`, 'utf8'));
    await sleep(1_000);
    const restart = await asRescue('restart main --by rescue-agent --json', 240_000);
    assert.equal(restart.code, 0, describeResult(restart));
    const resolve = await asRescue(`incident resolve ${id} --by rescue-agent --json`);
    assert.equal(resolve.code, 0, describeResult(resolve));
    await waitForEvent('resolved', (e) => e.event === 'resolved' && e.incidentId === id, 60_000);
    const archived = join(rescueWorkspace, 'lifeguard-archive', `${id}.md`);
    await pollUntil('the archived brief', () => existsSync(archived), { timeoutMs: 30_000 });
    assert.equal(existsSync(join(rescueWorkspace, 'LIFEGUARD_INCIDENT.md')), false);
    const record = await incident(id);
    assert.ok(record.timeline.some((e) => e.kind === 'audit' && e.text.startsWith('rescue-agent')), 'the rescue\'s commands are audited');
    assert.deepEqual(record.actions.map((a) => a.action), ['handoff'], 'lifeguard took no action on the main while the rescue held it');
    assert.equal((await main()).state, 'healthy');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_REPLY_CHARS, finish, replyBusy, replyDiagnosis, replyHelp, replyIncident, replyIncidents, replyRestart, replyRestore, replyStatus,
} from '../../src/chat/reply.js';
import { answerChat, isOwner, type ChatDeps, type ChatSender, type CliResult } from '../../src/chat/run.js';
import type { IncidentRecord } from '../../src/incidents/record.js';
import type { RestartReport } from '../../src/surfaces/repair/restart.js';
import type { Diagnosis } from '../../src/surfaces/diagnose.js';
import type { InstanceView, StatusView } from '../../src/surfaces/status-view.js';

const NOW = Date.parse('2026-11-25T21:10:00Z');
const ID = 'main-20261125-210347Z';
const TOKEN = 'tok-7f3a9c1b2d4e5f60718293a4';

function instance(overrides: Partial<InstanceView> = {}): InstanceView {
  return {
    instance: 'main', state: 'healthy', reason: 'recovered: probes pass', classification: null, since: '2026-11-25T20:00:00.000Z',
    pid: 4242, port: 18789, pm2Status: 'online', restarts: 0, uptimeMs: 3_900_000,
    lastProbe: { at: '2026-11-25T21:09:58.000Z', ok: true, ready: true, latencyMs: 4, detail: 'hello-ok (protocol 4) and health answered' },
    incident: null, pausedUntil: null, automationHeld: null, config: { valid: true, detail: 'valid (checked by gateway-rpc)', at: '2026-11-25T21:09:00.000Z' },
    ...overrides,
  };
}

const brokenMain = instance({
  state: 'down', classification: 'config-invalid', since: '2026-11-25T21:03:47.000Z', pid: null, pm2Status: 'stopped', uptimeMs: null,
  reason: 'Gateway failed to start: Invalid config at /home/me/.openclaw/openclaw.json: <root>: JSON5: invalid end of input at 14:1',
  config: { valid: false, detail: 'syntax: <root>: JSON5: invalid end of input at 14:1', at: '2026-11-25T21:03:40.000Z' },
  incident: { id: ID, rung: 'R2', frozen: false, problem: 'down', summary: 'main Gateway is down (config-invalid)' },
});

function status(main: InstanceView, running = true): StatusView {
  return {
    supervisor: { running, pid: running ? 100 : null, updatedAt: '2026-11-25T21:09:59.000Z', note: running ? null : "lifeguard's state is 45 s old: is the supervisor running?" },
    configFile: '/home/me/.lifeguard/lifeguard.json5', configEdit: null, alertProviders: ['hook'],
    instances: [main, instance({ instance: 'rescue', port: 19789, pid: 4343, config: null })],
  };
}

function diagnosis(overrides: Partial<Diagnosis> = {}): Diagnosis {
  return {
    instance: 'main', verdict: 'config-invalid',
    summary: "main's config is invalid (syntax: <root>: JSON5: invalid end of input at 14:1); it cannot start with it",
    fix: ['npx lifeguard config diff main', 'npx lifeguard config restore main'],
    probes: { live: false, ready: false, latencyMs: 1, detail: 'open: ECONNREFUSED' },
    config: { valid: false, detail: 'syntax: <root>: JSON5: invalid end of input at 14:1' },
    port: { port: 18789, holders: [] },
    pm2: { reachable: true, status: 'stopped', pid: null, restarts: 3, uptimeMs: null },
    recentExits: [], incident: { id: ID, rung: 'R2', status: 'open' },
    snapshots: { count: 2, newest: '20261125T200000Z-3f2a9c1b', matchesCurrent: false },
    logTail: [`token=${TOKEN} should never be shown`],
    ...overrides,
  };
}

function restart(overrides: Partial<RestartReport> = {}): RestartReport {
  return { instance: 'main', restarted: true, healthy: true, state: 'healthy', waitedMs: 23_400, detail: 'restarted through PM2; healthy after 23 s (pid 5151): hello-ok', ...overrides };
}

describe('chat replies', () => {
  it('status: one line per Gateway when all is well, nothing to do', () => {
    assert.equal(replyStatus(status(instance()), NOW), '✅ main: healthy (pid 4242, up 1h 5m)\n✅ rescue: healthy (pid 4343, up 1h 5m)');
  });

  it('status: a broken main says what, why, the incident, and to diagnose', () => {
    const text = replyStatus(status(brokenMain, false), NOW);
    const lines = text.split('\n');
    assert.equal(lines[0], '🔴 main: DOWN [config-invalid] for 6m 13s');
    assert.match(text, /Gateway failed to start: Invalid config/);
    assert.match(text, /config INVALID: syntax: <root>: JSON5: invalid end of input at 14:1/);
    assert.match(text, new RegExp(`incident ${ID} \\(R2\\)`));
    assert.match(text, /⚠️ lifeguard's supervisor is not running/);
    assert.equal(lines.at(-1), 'Next: /lifeguard diagnose');
    assert.ok(lines.length <= 8, text);
  });

  it('diagnose: the verdict, the reason, and restore then restart as the next steps', () => {
    const text = replyDiagnosis(diagnosis());
    assert.deepEqual(text.split('\n'), [
      '🔴 main: CONFIG-INVALID',
      "main's config is invalid (syntax: <root>: JSON5: invalid end of input at 14:1); it cannot start with it",
      'PM2 stopped · config INVALID · snapshot 20261125T200000Z-3f2a9c1b (differs from the current config)',
      `incident ${ID} (R2, open)`,
      'Next: /lifeguard restore, then /lifeguard restart main',
    ]);
  });

  it('diagnose: a step only possible on the machine says so, in order', () => {
    const noSnapshot = diagnosis({
      fix: ['npx lifeguard config validate main', 'edit /home/me/.openclaw/openclaw.json to fix: <root>: JSON5: invalid end of input at 14:1', 'npx lifeguard restart main'],
      snapshots: { count: 0, newest: null, matchesCurrent: false },
    });
    assert.match(replyDiagnosis(noSnapshot), /no snapshot yet\n.*\nNext: on the machine: edit \/home\/me\/\.openclaw\/openclaw\.json to fix: .*, then \/lifeguard restart main$/);
    const healthy = diagnosis({ verdict: 'healthy', summary: 'main is healthy: answered in 4 ms (pid 5151, up 2m)', fix: [`npx lifeguard incident resolve ${ID}`] });
    assert.match(replyDiagnosis(healthy), new RegExp(`^✅ main: HEALTHY\n[^]*Next: /lifeguard resolve ${ID}$`));
  });

  it('restart: back, refused for an invalid config, or still not healthy', () => {
    assert.equal(replyRestart(restart(), ID), `✅ main restarted and healthy after 23 s.\nNext: /lifeguard resolve ${ID}`);
    const refused = restart({
      restarted: false, healthy: false, state: 'refused', waitedMs: 0,
      detail: 'refused: the config is invalid (syntax: <root>: JSON5: invalid end of input at 14:1); restarting would take main down until it is fixed. Fix: lifeguard config diff main',
    });
    assert.equal(replyRestart(refused, undefined), '⛔ main NOT restarted: its config is invalid (syntax: <root>: JSON5: invalid end of input at 14:1). Nothing was changed.\nNext: /lifeguard restore, then /lifeguard restart main');
    assert.match(replyRestart(restart({ healthy: false, state: 'down', detail: 'restarted through PM2; not answering within 150 s' }), undefined), /^🔴 main restarted, but is not healthy: .*not answering within 150 s\nNext: \/lifeguard diagnose$/);
  });

  it('restore: what was put back, where the broken file is, and to restart next', () => {
    const text = replyRestore({ instance: 'main', snapshot: '20261125T200000Z-3f2a9c1b', configPath: '/home/me/.openclaw/openclaw.json', changed: true, keptAs: '/home/me/.openclaw/openclaw.json.lifeguard-rejected-20261125T210900Z', incident: ID });
    assert.equal(text, [
      '✅ Restored snapshot 20261125T200000Z-3f2a9c1b to /home/me/.openclaw/openclaw.json.',
      'The replaced file is kept as /home/me/.openclaw/openclaw.json.lifeguard-rejected-20261125T210900Z.',
      'The main was not restarted.',
      'Next: /lifeguard restart main',
    ].join('\n'));
  });

  it('busy: who holds the repair lock, nothing changed, and when to try again', () => {
    const message = 'busy: lifeguard is running restore of main (R2) since 2026-11-25T21:03:47.000Z (pid 4242); waited 30 s; try again in 45 s';
    assert.equal(replyBusy(message, '/lifeguard restart main'), '⏳ Busy: lifeguard is running restore of main (R2) (since 2026-11-25 21:03 UTC). Nothing was changed. Try again in 45 s: /lifeguard restart main');
    assert.equal(replyBusy('busy: another repair holds the repair lock; waited 30 s; try again in 12 s', '/lifeguard restore'), '⏳ Busy: another repair is running. Nothing was changed. Try again in 12 s: /lifeguard restore');
  });

  it('incidents and one incident: short lines, and what to send about an open one', () => {
    const record = {
      id: ID, instance: 'main', status: 'open', openedAt: Date.parse('2026-11-25T21:03:47Z'), problem: 'down', classification: 'config-invalid',
      severity: 'critical', summary: 'main Gateway is down (config-invalid)', rung: 'R2', rungSince: 0, frozen: false, ack: undefined,
      recoveredAt: undefined, resolvedAt: undefined, lastAlertAt: 0, alertCounts: {}, configPath: '/x', timeline: [], deliveries: [], errorOutput: [], logTail: [],
      actions: [{ at: 0, rung: 'R2', action: 'restore', reason: 'r', status: 'failed' }], timeToRecoverMs: undefined,
      attempts: { R0: 0, R1: 0, R2: 1, R3: 0, R4: 0 },
    } as IncidentRecord;
    assert.equal(replyIncidents([record], NOW), `Incidents, newest first:\n🔴 ${ID} OPEN at R2: down [config-invalid], 6m 13s\nDetails: /lifeguard incident <id>`);
    assert.equal(replyIncidents([], NOW), 'No incidents recorded.');
    const shown = replyIncident(record, NOW);
    assert.match(shown, /^🔴 Incident main-20261125-210347Z: OPEN at R2\n/);
    assert.match(shown, /last action: R2 restore failed/);
    assert.match(shown, new RegExp(`Next: /lifeguard diagnose · /lifeguard ack ${ID} · /lifeguard resolve ${ID}$`));
  });

  it('help lists every subcommand and marks the owner-only ones', () => {
    const help = replyHelp();
    for (const usage of ['status', 'diagnose [main]', 'incidents', 'incident <id>', 'ack <id>', 'restore [--id ID]', 'restart main', 'resolve <id>', 'pause main <duration>', 'resume main', 'help']) {
      assert.ok(help.includes(`/lifeguard ${usage}:`), usage);
    }
    assert.match(help, /\/lifeguard restart main: .*\(owner\)/);
    assert.doesNotMatch(help, /\/lifeguard status: .*\(owner\)/);
  });

  it('every reply is masked and fits one chat message', () => {
    const text = finish(`token=${TOKEN}\n${'x'.repeat(5_000)}`, [TOKEN]);
    assert.ok(!text.includes(TOKEN));
    assert.ok(text.length <= MAX_REPLY_CHARS);
  });
});

// ---------------------------------------------------------------------------------------------------

interface Harness {
  deps: ChatDeps;
  calls: Array<readonly string[]>;
  audits: Array<{ instance: string; incidentId: string | undefined; who: string; text: string }>;
}

function harness(answers: Record<string, CliResult> = {}, ownerIds: string[] = []): Harness {
  const calls: Array<readonly string[]> = [];
  const audits: Harness['audits'] = [];
  return {
    calls,
    audits,
    deps: {
      ownerIds,
      runCli: async (args) => {
        calls.push(args);
        return answers[args.slice(0, 2).join(' ')] ?? answers[args[0]!] ?? { code: 0, stdout: '{}', stderr: '' };
      },
      audit: async ({ instance, incidentId }, who, text) => { audits.push({ instance, incidentId, who, text }); },
      openIncident: async () => ID,
      secrets: [TOKEN],
      lockTimeoutMs: 30_000,
      now: () => NOW,
    },
  };
}

const ok = (doc: unknown): CliResult => ({ code: 0, stdout: JSON.stringify(doc), stderr: '' });
const openclawOwner: ChatSender = { id: 'cli', channel: 'webchat', authorized: true, gatewayOwner: true };
const openclawOperator: ChatSender = { id: 'cli', channel: 'webchat', authorized: true, gatewayOwner: false };
const clawdbotSender: ChatSender = { id: '123456789', channel: 'telegram', authorized: true, gatewayOwner: undefined };

describe('answering /lifeguard: who may do what', () => {
  it('reads are for any authorized sender, and run the CLI with --json', async () => {
    const h = harness({ status: ok(status(brokenMain)) });
    const text = await answerChat('status', openclawOperator, h.deps);
    assert.match(text, /^🔴 main: DOWN \[config-invalid\]/);
    assert.deepEqual(h.calls, [['status', '--json']]);
  });

  it('a write from a non-owner is refused before anything runs, and the refusal is audited', async () => {
    const h = harness();
    const text = await answerChat('restart main', openclawOperator, h.deps);
    assert.equal(text, '⛔ Only the owner may send /lifeguard restart main. Nothing was changed.\nYou can still send /lifeguard status or /lifeguard diagnose.');
    assert.deepEqual(h.calls, [], 'no lifeguard command ran');
    assert.deepEqual(h.audits, [{ instance: 'main', incidentId: undefined, who: 'webchat:cli (chat)', text: '/lifeguard restart main → ⛔ Only the owner may send /lifeguard restart main. Nothing was changed.' }]);
  });

  it("the owner's write runs as them: --by names the sender, the restart waits for health", async () => {
    const h = harness({ restart: ok(restart()) });
    const text = await answerChat('restart main', openclawOwner, h.deps);
    assert.equal(text, `✅ main restarted and healthy after 23 s.\nNext: /lifeguard resolve ${ID}`);
    assert.deepEqual(h.calls, [['restart', 'main', '--timeout', '150s', '--by', 'webchat:cli (chat)', '--json']]);
    assert.equal(h.audits[0]?.text, '/lifeguard restart main → ✅ main restarted and healthy after 23 s.');
  });

  it('restore only puts the file back: the owner restarts next, with the config check', async () => {
    const h = harness({ config: ok({ instance: 'main', snapshot: '20261125T200000Z-3f2a9c1b', configPath: '/c.json', changed: true, keptAs: null, incident: ID }) });
    await answerChat('restore --id 20261125T200000Z-3f2a9c1b', openclawOwner, h.deps);
    assert.deepEqual(h.calls, [['config', 'restore', 'main', '--no-restart', '--id', '20261125T200000Z-3f2a9c1b', '--by', 'webchat:cli (chat)', '--json']]);
  });

  it('on Clawdbot (no owner flag) chat.ownerIds decides, and a stranger is told their sender id', async () => {
    const stranger = await answerChat('pause main 1h', clawdbotSender, harness().deps);
    assert.match(stranger, /^⛔ Only the owner may send \/lifeguard pause main 1h\. Nothing was changed\. The owner's sender ids are chat\.ownerIds in lifeguard\.json5 \(yours is telegram:123456789\)\./);
    const h = harness({ pause: ok({ instance: 'main', pausedUntil: '2026-11-25T22:10:00.000Z', by: 'telegram:123456789 (chat)' }) }, ['telegram:123456789']);
    assert.match(await answerChat('pause main 1h', clawdbotSender, h.deps), /^⏸ main paused until 2026-11-25 22:10 UTC/);
    assert.deepEqual(h.calls, [['pause', 'main', '--for', '1h', '--by', 'telegram:123456789 (chat)', '--json']]);
  });

  it('chat.ownerIds names a channel and an id, compared as two exact fields', () => {
    assert.equal(isOwner({ ...clawdbotSender, channel: 'discord', id: 'telegram:42' }, ['telegram:42']), false, 'a Discord sender named telegram:42');
    assert.equal(isOwner({ ...clawdbotSender, channel: 'telegram', id: '42' }, ['telegram:42']), true);
    assert.equal(isOwner({ ...clawdbotSender, channel: 'slack', id: 'u0abc' }, ['slack:U0ABC']), false, 'ids differing in case are other people');
    assert.equal(isOwner({ ...clawdbotSender, channel: undefined, id: 'telegram:42' }, ['telegram:42']), false, 'no channel, no match');
  });

  it('on Clawdbot diagnose and incident are for chat.ownerIds only; status stays open to any authorized sender', async () => {
    const h = harness({ status: ok(status(brokenMain)) });
    assert.match(await answerChat('diagnose', clawdbotSender, h.deps), /^⛔ Only the owner may send \/lifeguard diagnose\. Nothing was changed\..*\nYou can still send \/lifeguard status\.$/s);
    assert.match(await answerChat(`incident ${ID}`, clawdbotSender, h.deps), /^⛔ Only the owner may send \/lifeguard incident /);
    assert.match(await answerChat('status', clawdbotSender, h.deps), /^🔴 main: DOWN/);
    assert.deepEqual(h.calls, [['status', '--json']]);
    const failed: CliResult = { code: 2, stdout: '', stderr: 'cannot diagnose' };
    const owner = harness({ diagnose: failed }, ['telegram:123456789']);
    await answerChat('diagnose', clawdbotSender, owner.deps);
    assert.deepEqual(owner.calls, [['diagnose', 'main', '--json']]);
    const openclaw = harness({ diagnose: failed });
    await answerChat('diagnose', openclawOperator, openclaw.deps);
    assert.deepEqual(openclaw.calls, [['diagnose', 'main', '--json']], 'OpenClaw authorized senders may still diagnose');
  });

  it('an answer too long to read is reported as cut off, not as a time-out', async () => {
    const h = harness({ diagnose: { code: null, stdout: '{"verdict":', stderr: '', overflowed: true } });
    const text = await answerChat('diagnose', openclawOwner, h.deps);
    assert.match(text, /^⚠️ The answer to \/lifeguard diagnose was longer than lifeguard reads/);
    assert.doesNotMatch(text, /took longer/);
  });

  it("OpenClaw's own verdict wins over chat.ownerIds", () => {
    assert.equal(isOwner(openclawOperator, ['webchat:cli']), false);
    assert.equal(isOwner({ ...clawdbotSender, channel: 'webchat', id: 'cli' }, ['webchat:cli']), true);
  });

  it('a sender the Gateway did not authorize gets nothing at all', async () => {
    const h = harness();
    const text = await answerChat('status', { ...clawdbotSender, authorized: false }, h.deps);
    assert.match(text, /^⛔ telegram:123456789 is not authorized to use \/lifeguard on this Gateway\./);
    assert.deepEqual(h.calls, []);
  });

  it('a resolve is audited in the incident it closes, a rescue incident under the rescue', async () => {
    const h = harness({ 'incident resolve': ok({ id: 'rescue-20261125-210347Z', changed: true, status: 'resolved', ack: null, frozen: false, alerts: ['resolved'] }) });
    assert.equal(await answerChat('resolve rescue-20261125-210347Z', openclawOwner, h.deps), '✅ Incident rescue-20261125-210347Z resolved.');
    assert.deepEqual(h.audits.map((a) => [a.instance, a.incidentId]), [['rescue', 'rescue-20261125-210347Z']]);
  });

  it('bad input is answered with the refusal and audited, nothing runs', async () => {
    const h = harness();
    assert.match(await answerChat('ack yesterday', openclawOwner, h.deps), /^❓ "yesterday" is not an incident id/);
    assert.deepEqual(h.calls, []);
    assert.match(h.audits[0]!.text, /^\/lifeguard ack yesterday → ❓/);
  });

  it('exit 4: busy, with when to try again; exit 5: PM2 unreachable; exit 2: the CLI\'s own words', async () => {
    const busy = harness({ restart: { code: 4, stdout: '', stderr: 'busy: rescue-agent is running restart main since 2026-11-25T21:08:00.000Z (pid 77); waited 30 s; try again in 95 s\n' } });
    assert.match(await answerChat('restart main', openclawOwner, busy.deps), /^⏳ Busy: rescue-agent is running restart main .*Nothing was changed\. Try again in 95 s/);
    const pm2 = harness({ restart: { code: 5, stdout: '', stderr: 'PM2 is not reachable: no PM2 daemon runs for /home/me/.pm2.\nFix: start everything with: lifeguard up\n' } });
    assert.match(await answerChat('restart main', openclawOwner, pm2.deps), /^🔴 PM2 is not reachable[^]*On the machine, in the lifeguard folder: npx lifeguard up$/);
    const unknown = harness({ 'incident show': { code: 2, stdout: '', stderr: `no incident ${ID}; list them with: lifeguard incidents\n` } });
    assert.equal(await answerChat(`incident ${ID}`, openclawOperator, unknown.deps), `❌ /lifeguard incident ${ID} failed: no incident ${ID}; list them with: lifeguard incidents\n/lifeguard incidents lists the incidents.`);
  });

  it('a command that does not finish in time is reported, not waited for forever', async () => {
    const h = harness({ diagnose: { code: null, stdout: '', stderr: '' } });
    assert.match(await answerChat('diagnose', openclawOperator, h.deps), /^⏳ \/lifeguard diagnose took longer than 120 s and was stopped/);
  });

  it('a token pasted into a command is masked in the reply and in the audit line', async () => {
    const h = harness();
    const text = await answerChat(`frobnicate ${TOKEN}`, openclawOwner, h.deps);
    assert.ok(!text.includes(TOKEN) && !h.audits[0]!.text.includes(TOKEN), `${text}\n${h.audits[0]!.text}`);
  });

  it('a secret in anything the CLI printed never reaches the chat', async () => {
    const h = harness({ diagnose: { code: 1, stdout: JSON.stringify(diagnosis({ summary: `broken: auth token ${TOKEN} rejected` })), stderr: '' } });
    const text = await answerChat('diagnose', openclawOperator, h.deps);
    assert.ok(!text.includes(TOKEN), text);
    assert.match(text, /broken: auth token \[redacted\] rejected/);
  });
});

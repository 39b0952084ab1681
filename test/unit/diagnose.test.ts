import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeConfigVerdict, diagnose, mergeLogLines, recentExits, renderDiagnosis, type DiagnoseFacts, type Verdict,
} from '../../src/surfaces/diagnose.js';
import type { JournalEntry } from '../../src/surfaces/journal.js';
import type { TimelineEntry } from '../../src/incidents/record.js';
import { CONFIG, facts } from '../helpers/diagnose-facts.js';

const down = { live: false, ready: false, latencyMs: 1500, detail: 'open: ECONNREFUSED' };
const invalid = { valid: false, detail: 'syntax: <root>: JSON5: invalid character \'}\' at 3:9', issues: ['<root>: JSON5: invalid character \'}\' at 3:9'] } as const;
const notRunningPm2 = (status: string) => ({ reachable: true, status, pid: null, restarts: 3, uptimeMs: null });

describe('diagnose verdicts', () => {
  const cases: Array<{ name: string; facts: DiagnoseFacts; verdict: Verdict; summary: RegExp; fix: Array<string | RegExp> }> = [
    { name: 'healthy', facts: facts(), verdict: 'healthy', summary: /main is healthy: answered in 12 ms \(pid 4242, up 10m\)/, fix: [] },
    {
      name: 'healthy with an open incident: resolve it', facts: facts({ incident: { id: 'main-20261125-210347Z', rung: 'R1', status: 'open' } }),
      verdict: 'healthy', summary: /healthy/, fix: ['npx lifeguard incident resolve main-20261125-210347Z'],
    },
    {
      name: 'healthy, config not checkable', facts: facts({ config: { valid: 'unknown', detail: 'no time left', issues: [] } }),
      verdict: 'healthy', summary: /config not checked: no time left/, fix: [],
    },
    {
      name: 'live, not ready', facts: facts({ probes: { live: true, ready: false, latencyMs: 20, detail: '/readyz answered 503 (failing: startup-sidecars)' } }),
      verdict: 'degraded', summary: /live but not ready: \/readyz answered 503/, fix: ['npx lifeguard logs main --lines 100'],
    },
    {
      name: 'online, not answering, long up: hung', facts: facts({ probes: down }),
      verdict: 'down', summary: /runs \(pid 4242, up 10m\) but does not answer: open: ECONNREFUSED/, fix: ['npx lifeguard logs main --lines 100', 'npx lifeguard restart main'],
    },
    {
      name: 'online, not answering, just started: wait', facts: facts({ probes: down, pm2: { reachable: true, status: 'online', pid: 4242, restarts: 1, uptimeMs: 20_000 } }),
      verdict: 'down', summary: /does not answer/, fix: [/^npx lifeguard diagnose main .*started 20s ago/],
    },
    {
      name: 'PM2 restarting it over and over', facts: facts({ probes: down, port: { port: 18789, holders: [] }, pm2: notRunningPm2('waiting restart'), recentExits: [{ at: Date.parse('2026-11-25T21:00:00Z'), code: 1, signal: null, reason: 'exited with code 1' }] }),
      verdict: 'down', summary: /keeps exiting: PM2 is restarting it \(waiting restart, 3 restarts\); last exit with code 1 at 2026-11-25T21:00:00.000Z/, fix: ['npx lifeguard logs main --lines 100'],
    },
    {
      name: 'stopped in PM2', facts: facts({ probes: down, port: { port: 18789, holders: [] }, pm2: notRunningPm2('stopped') }),
      verdict: 'not-running', summary: /main is not running \(PM2: stopped\)/, fix: ['npx lifeguard restart main'],
    },
    {
      name: 'not registered in PM2', facts: facts({ probes: down, port: { port: 18789, holders: [] }, pm2: notRunningPm2('not registered') }),
      verdict: 'not-running', summary: /not registered in PM2/, fix: ['npx lifeguard up'],
    },
    {
      name: 'no PM2 daemon, nothing answers', facts: facts({ probes: down, port: { port: 18789, holders: [] }, pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } }),
      verdict: 'not-running', summary: /PM2 daemon is not running/, fix: ['npx lifeguard up'],
    },
    {
      name: 'no PM2 daemon, but the port answers', facts: facts({ pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } }),
      verdict: 'unknown', summary: /answers on port 18789, but the PM2 daemon is not reachable/, fix: ['npx lifeguard status', 'npx lifeguard up'],
    },
    {
      name: 'config invalid, a snapshot differs: diff and restore', facts: facts({ config: invalid, snapshots: { count: 1, newest: 'x', matchesCurrent: false } }),
      verdict: 'config-invalid', summary: /config is invalid \(syntax: .*\); it still runs \(pid 4242\) on the config it loaded earlier, but its next start will fail/,
      fix: ['npx lifeguard config diff main', 'npx lifeguard config restore main'],
    },
    {
      name: 'config invalid, no snapshot: edit it', facts: facts({ config: invalid, snapshots: { count: 0, newest: null, matchesCurrent: false }, probes: down, pm2: notRunningPm2('stopped') }),
      verdict: 'config-invalid', summary: /it cannot start with it/,
      fix: ['npx lifeguard config validate main', `edit ${CONFIG} to fix: <root>: JSON5: invalid character '}' at 3:9`, 'npx lifeguard restart main'],
    },
    {
      name: 'a foreign process holds the port', facts: facts({ probes: down, pm2: notRunningPm2('waiting restart'), port: { port: 18789, holders: [{ pid: 999, command: 'python3 -m http.server 18789', instance: null }] } }),
      verdict: 'port-conflict', summary: /port 18789 is held by pid 999 \(python3 -m http.server 18789\), not by main's Gateway/,
      fix: ['kill 999   # pid 999 (python3 -m http.server 18789)', 'npx lifeguard restart main'],
    },
    {
      name: 'an orphaned main Gateway holds the port', facts: facts({ pm2: { reachable: true, status: 'online', pid: 5000, restarts: 7, uptimeMs: 1_000 }, port: { port: 18789, holders: [{ pid: 4242, command: 'node openclaw.mjs gateway', instance: 'main' }] } }),
      verdict: 'port-conflict', summary: /an orphaned main Gateway \(pid 4242\) that PM2 does not run/, fix: [/^kill 4242 /, 'npx lifeguard restart main'],
    },
    {
      name: 'the rescue holds the main port', facts: facts({ probes: down, pm2: notRunningPm2('stopped'), port: { port: 18789, holders: [{ pid: 77, command: null, instance: 'rescue' }] } }),
      verdict: 'port-conflict', summary: /the rescue Gateway \(pid 77\)/, fix: [/different ports in lifeguard.json5/, 'npx lifeguard restart main'],
    },
    {
      name: 'a holder of another user (no pid)', facts: facts({ probes: down, pm2: notRunningPm2('stopped'), port: { port: 18789, holders: [{ pid: null, command: null, instance: null }] } }),
      verdict: 'port-conflict', summary: /a process of another user/, fix: [/ss -ltnp/, 'npx lifeguard restart main'],
    },
    {
      name: 'own holder while PM2 cannot be asked is not a conflict', facts: facts({ probes: down, pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } }),
      verdict: 'not-running', summary: /PM2 daemon is not running/, fix: ['npx lifeguard up'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = diagnose(c.facts);
      assert.equal(d.verdict, c.verdict);
      assert.match(d.summary, c.summary);
      assert.equal(d.fix.length, c.fix.length, JSON.stringify(d.fix));
      c.fix.forEach((want, i) => (typeof want === 'string' ? assert.equal(d.fix[i], want) : assert.match(d.fix[i]!, want)));
      assert.ok(!d.summary.includes('\n'), 'the summary is one line');
    });
  }

  it('emits exactly the documented JSON shape', () => {
    const d = diagnose(facts({
      recentExits: [{ at: Date.parse('2026-11-25T21:00:00Z'), code: null, signal: 'SIGKILL', reason: 'killed by SIGKILL' }],
      incident: { id: 'main-20261125-210347Z', rung: 'R2', status: 'open' },
      logTail: ['a line'],
    }));
    assert.deepEqual(Object.keys(d), ['instance', 'verdict', 'summary', 'fix', 'probes', 'config', 'port', 'pm2', 'recentExits', 'incident', 'snapshots', 'logTail']);
    assert.deepEqual(Object.keys(d.probes), ['live', 'ready', 'latencyMs', 'detail']);
    assert.deepEqual(d.config, { valid: true, detail: 'valid (checked by gateway-rpc)' });
    assert.deepEqual(d.port, { port: 18789, holders: [{ pid: 4242, command: 'node openclaw.mjs gateway --port 18789' }] });
    assert.deepEqual(Object.keys(d.pm2), ['reachable', 'status', 'pid', 'restarts', 'uptimeMs']);
    assert.deepEqual(d.recentExits, [{ at: '2026-11-25T21:00:00.000Z', code: null, signal: 'SIGKILL', reason: 'killed by SIGKILL' }]);
    assert.deepEqual(d.incident, { id: 'main-20261125-210347Z', rung: 'R2', status: 'open' });
    assert.deepEqual(d.snapshots, { count: 2, newest: '20261125T210347Z-3f2a9c1b', matchesCurrent: true });
  });
});

describe('diagnose rendering', () => {
  it('reads as a report: verdict, findings, fix, log lines', () => {
    const text = renderDiagnosis(diagnose(facts({
      config: invalid, snapshots: { count: 1, newest: '20261125T210347Z-3f2a9c1b', matchesCurrent: false },
      recentExits: [{ at: Date.parse('2026-11-25T21:00:00Z'), code: 78, signal: null, reason: '[config-invalid] exited with code 78' }],
      logTail: ['2026-11-25T21:00:00Z [gateway] Config invalid'],
    })));
    assert.match(text, /^main: CONFIG-INVALID\n {2}main's config is invalid/);
    assert.match(text, /probes +live and ready in 12 ms/);
    assert.match(text, /config +INVALID: syntax/);
    assert.match(text, /port +18789: pid 4242 \(node openclaw.mjs gateway --port 18789\)/);
    assert.match(text, /PM2 +online, pid 4242, restarts 0, uptime 10m/);
    assert.match(text, /snapshots +1, newest 20261125T210347Z-3f2a9c1b \(differs from the current config\)/);
    assert.match(text, /Recent exits, newest first:\n {2}2026-11-25T21:00:00.000Z {2}code 78 {2}\[config-invalid\]/);
    assert.match(text, /Suggested fix:\n {2}npx lifeguard config diff main\n {2}npx lifeguard config restore main/);
    assert.match(text, /Last 1 log lines \(secrets redacted\):\n {2}2026-11-25T21:00:00Z \[gateway\] Config invalid$/);
  });

  it('says so when there is nothing to fix, and when PM2 is out of reach', () => {
    assert.match(renderDiagnosis(diagnose(facts())), /Nothing to fix\./);
    const text = renderDiagnosis(diagnose(facts({ probes: down, port: { port: 18789, holders: [] }, pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } })));
    assert.match(text, /PM2 +not reachable/);
    assert.match(text, /port +18789: free/);
  });
});

describe('config verdict in one line', () => {
  it('valid, invalid with more issues, unknown', () => {
    assert.deepEqual(describeConfigVerdict({ valid: true, hash: 'h', via: 'gateway-cli' }), { valid: true, detail: 'valid (checked by gateway-cli)', issues: [] });
    const bad = describeConfigVerdict({ valid: false, hash: 'h', kind: 'schema', issues: ['gateway.port: expected number', 'x: y'], via: 'gateway-rpc' });
    assert.equal(bad.detail, 'schema: gateway.port: expected number (+1 more)');
    assert.equal(describeConfigVerdict({ valid: 'unknown', hash: null, detail: 'timed out' }).detail, 'timed out');
  });
});

describe('recent exits', () => {
  const t = (iso: string) => Date.parse(iso);
  const journal: JournalEntry[] = [
    { ts: '2026-11-25T21:00:00.100Z', instance: 'main', from: 'healthy', to: 'down', reason: 'killed by SIGKILL', classification: 'crashed' },
    { ts: '2026-11-25T21:00:05.000Z', instance: 'main', from: 'down', to: 'recovering', reason: 'started again (pid 5), waiting for probes' },
    { ts: '2026-11-25T21:05:00.000Z', instance: 'rescue', from: 'healthy', to: 'down', reason: 'exited with code 1' },
    { ts: '2026-11-25T21:10:00.000Z', instance: 'main', from: 'healthy', to: 'down', reason: 'the Gateway refused its config (exited with code 78): Config invalid', classification: 'config-invalid' },
  ];
  const timeline: TimelineEntry[] = [
    { at: t('2026-11-25T21:00:00.000Z'), kind: 'pm2', text: 'exit of pid 4: signal SIGKILL' },
    { at: t('2026-11-25T21:08:00.000Z'), kind: 'pm2', text: 'exit of pid 5: code 0 (requested)' },
    // PM2 sends a requested stop's `exit` twice.
    { at: t('2026-11-25T21:08:00.030Z'), kind: 'pm2', text: 'exit of pid ?: code 0 (requested)' },
    { at: t('2026-11-25T21:08:01.000Z'), kind: 'pm2', text: 'online, pid 6 (requested start)' },
  ];

  it('joins the journal and the incident notes, newest first, each exit once', () => {
    assert.deepEqual(recentExits(journal, timeline, 'main'), [
      { at: t('2026-11-25T21:10:00.000Z'), code: 78, signal: null, reason: '[config-invalid] the Gateway refused its config (exited with code 78): Config invalid' },
      { at: t('2026-11-25T21:08:00.000Z'), code: 0, signal: null, reason: 'exit of pid 5: code 0 (requested)' },
      { at: t('2026-11-25T21:00:00.100Z'), code: null, signal: 'SIGKILL', reason: '[crashed] killed by SIGKILL' },
    ]);
    assert.equal(recentExits(journal, timeline, 'main', 1).length, 1);
    assert.deepEqual(recentExits(journal, [], 'rescue').map((e) => e.code), [1]);
  });
});

describe('log lines of two files in time order', () => {
  it('interleaves by leading timestamps; untimed lines follow the line before them', () => {
    const out = ['2026-11-25T21:00:01.000+00:00 [gateway] starting', '2026-11-25T21:00:03.000+00:00 [gateway] listening'];
    const err = ['2026-11-25T21:00:02.000+00:00 [gateway] warning', '    at stack frame', '2026-11-25T21:00:04.000+00:00 [gateway] failed'];
    assert.deepEqual(mergeLogLines([out, err], 10), [out[0], err[0], err[1], out[1], err[2]]);
    assert.deepEqual(mergeLogLines([out, err], 2), [out[1], err[2]]);
  });

  it('keeps the given order for streams without timestamps', () => {
    assert.deepEqual(mergeLogLines([['a', 'b'], ['c']], 10), ['a', 'b', 'c']);
  });
});

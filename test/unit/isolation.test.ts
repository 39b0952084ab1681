import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { ResolvedInstance } from '../../src/config/instance.js';
import { resolveInstance } from '../../src/config/instance.js';
import { derivedPortRanges, rangesOverlap } from '../../src/isolation/ports.js';
import { findIsolationProblems, findTakenPorts, formatProblems, type PortHolder } from '../../src/isolation/rules.js';
import { findPortHolders } from '../../src/isolation/port-holders.js';

function instance(name: 'main' | 'rescue', patch: Partial<ResolvedInstance> = {}): ResolvedInstance {
  const base = resolveInstance(
    { name, profile: name === 'main' ? 'default' : 'rescue', port: name === 'main' ? 18789 : 19789, bonjour: name === 'main', env: {} },
    'openclaw',
    '/home/u',
    { exists: false, pinnedEndpoints: [] },
  );
  return { ...base, ...patch };
}

describe('derived port arithmetic', () => {
  it('covers base, base+2, the relay on base+3, base+4 and the CDP range base+11..base+110', () => {
    assert.deepEqual(derivedPortRanges(18789).map((r) => [r.first, r.last]), [[18789, 18789], [18791, 18791], [18792, 18792], [18793, 18793], [18800, 18899]]);
  });
  it('detects overlap only when ranges share a port', () => {
    assert.equal(rangesOverlap({ role: 'a', first: 1, last: 5 }, { role: 'b', first: 5, last: 9 }), true);
    assert.equal(rangesOverlap({ role: 'a', first: 1, last: 4 }, { role: 'b', first: 5, last: 9 }), false);
  });
});

describe('isolation rules', () => {
  it('accepts the defaults: main on 18789 in ~/.openclaw, rescue on 19789 in ~/.openclaw-rescue', () => {
    const main = instance('main');
    const rescue = instance('rescue');
    assert.equal(main.configPath, '/home/u/.openclaw/openclaw.json');
    assert.equal(rescue.configPath, '/home/u/.openclaw-rescue/openclaw.json');
    assert.equal(rescue.workspace, '/home/u/.openclaw-rescue/workspace');
    assert.deepEqual(findIsolationProblems(main, rescue), []);
  });

  const cases: Array<{ name: string; rescue: Partial<ResolvedInstance>; rule: string; mentions: string }> = [
    { name: 'the same config file', rescue: { configPath: '/home/u/.openclaw/openclaw.json' }, rule: 'shared-path', mentions: 'config file' },
    { name: 'the same state dir', rescue: { stateDir: '/home/u/.openclaw' }, rule: 'shared-path', mentions: 'state dir' },
    { name: 'the same workspace', rescue: { workspace: '/home/u/.openclaw/workspace' }, rule: 'shared-path', mentions: 'workspace' },
    { name: 'the same Gateway log file', rescue: { logFile: '/home/u/.openclaw/logs/gateway.jsonl' }, rule: 'shared-path', mentions: 'log file' },
    { name: 'the same base port', rescue: { port: 18789 }, rule: 'shared-port', mentions: 'base port 18789' },
    { name: "a base port inside main's CDP range", rescue: { port: 18850 }, rule: 'port-overlap', mentions: 'CDP range' },
    { name: "a browser-control port on main's canvas port", rescue: { port: 18791 }, rule: 'port-overlap', mentions: 'canvas host' },
    {
      name: 'a shared browser.cdpUrl',
      rescue: { pinnedEndpoints: [{ key: 'browser.cdpUrl', value: 'http://127.0.0.1:9222', port: 9222 }] },
      rule: 'shared-endpoint',
      mentions: 'pin the same port or URL',
    },
    {
      name: "a CDP port pinned inside main's range",
      rescue: { pinnedEndpoints: [{ key: 'browser.profiles.work.cdpPort', value: '18820', port: 18820 }] },
      rule: 'port-overlap',
      mentions: 'browser.profiles.work.cdpPort',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, saying what and how to fix it`, () => {
      const main = instance('main', { pinnedEndpoints: [{ key: 'browser.cdpUrl', value: 'http://127.0.0.1:9222', port: 9222 }] });
      const problems = findIsolationProblems(main, instance('rescue', c.rescue));
      const hit = problems.find((p) => p.rule === c.rule && p.message.includes(c.mentions));
      assert.ok(hit, `no ${c.rule} problem in ${JSON.stringify(problems)}`);
      assert.ok(hit.fix.length > 10);
    });
  }

  it('lists every problem at once', () => {
    const problems = findIsolationProblems(instance('main'), instance('rescue', { port: 18789, stateDir: '/home/u/.openclaw', configPath: '/home/u/.openclaw/openclaw.json' }));
    assert.ok(problems.length >= 3);
    const text = formatProblems(problems);
    assert.match(text, /Pre-start check failed \(\d+ problems\)/);
    assert.equal(text.split('Fix:').length - 1, problems.length);
  });

  it('treats a port held by a foreign process as a problem, and one held by the same instance as fine', () => {
    const main = instance('main');
    const holders = new Map<number, PortHolder>([
      [18789, { kind: 'own', instance: 'main', pid: 10 }],
      [18791, { kind: 'foreign', pid: 42, command: 'python3 -m http.server' }],
    ]);
    const problems = findTakenPorts(main, holders);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /18791 .*pid 42: python3/);
    assert.equal(findTakenPorts(instance('rescue', { port: 18789 }), new Map([[18789, { kind: 'own', instance: 'main', pid: 10 } as PortHolder]])).length, 1);
  });
});

describe('port holders', () => {
  it('finds the pid of a foreign listener and reports free ports as free', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const holders = await findPortHolders([port, port + 1 === 65536 ? port - 1 : port + 1]);
      const held = holders.get(port);
      assert.equal(held?.kind, 'foreign');
      assert.equal(held?.kind === 'foreign' ? held.pid : undefined, process.pid);
    } finally {
      server.close();
    }
  });
});

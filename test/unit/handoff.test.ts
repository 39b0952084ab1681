import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedInstance } from '../../src/config/instance.js';
import { buildBrief, BRIEF_FILE, BRIEF_JSON_FILE } from '../../src/handoff/brief.js';
import { archiveBrief, handOff } from '../../src/handoff/handoff.js';
import { installSkill, renderSkill, skillPath } from '../../src/handoff/skill.js';
import { newRecord, type IncidentRecord } from '../../src/incidents/record.js';
import type { IncidentCore } from '../../src/incidents/types.js';

const TOKEN = 'tok-3f9a8b7c6d5e4f3a2b1c';

function record(): IncidentRecord {
  const core: IncidentCore = {
    id: 'main-20261125-210000Z', instance: 'main', status: 'open', openedAt: Date.parse('2026-11-25T21:00:00Z'), problem: 'down',
    classification: 'crash-looping', severity: 'critical', summary: `main Gateway is down (crash-looping): token ${TOKEN} rejected`,
    rung: 'R3', rungSince: 0, attempts: { R0: 0, R1: 0, R2: 0, R3: 1, R4: 0 }, frozen: false, ack: undefined, recoveredAt: undefined,
    resolvedAt: undefined, lastAlertAt: 0, alertCounts: {},
    lease: { grantedAt: 0, until: Date.parse('2026-11-25T21:10:00Z'), ackBy: Date.parse('2026-11-25T21:03:00Z') },
  };
  return { ...newRecord(core, '/home/u/.openclaw/openclaw.json'), errorOutput: ['Gateway failed to start: Invalid config at /home/u/.openclaw/openclaw.json:', `- gateway.auth.token: ${TOKEN}`] };
}

function instance(name: 'main' | 'rescue', workspace: string): ResolvedInstance {
  return {
    name, appName: `gateway-${name}`, flavour: 'openclaw', profile: name === 'main' ? 'default' : 'rescue', port: name === 'main' ? 21000 : 21200,
    configPath: `/cfg/${name}.json`, stateDir: `/state/${name}`, workspace, logFile: `/logs/${name}.log`, token: TOKEN,
    gatewayConfigExists: true, bonjour: false, extraEnv: {}, pinnedEndpoints: [],
  };
}

describe('the incident brief', () => {
  it('tells the rescue where the main is, what happened, what was tried and what to run, without a secret', () => {
    const brief = buildBrief({
      record: record(), main: { configPath: '/home/u/.openclaw/openclaw.json', stateDir: '/home/u/.openclaw', port: 18789 },
      cli: '/usr/bin/node /opt/lifeguard/dist/cli.js', config: { valid: false, detail: 'schema: <root>: Unrecognized key: "bogus"' },
      diff: { summary: '1 line added', patch: '+  "bogus": true' }, secrets: [TOKEN],
    });
    for (const wanted of ['/home/u/.openclaw/openclaw.json', 'port: 18789', 'crash-looping', 'Unrecognized key', '+  "bogus": true',
      '$LIFEGUARD_CLI incident ack main-20261125-210000Z --by rescue-agent', '$LIFEGUARD_CLI restart main', '2026-11-25T21:03:00.000Z']) {
      assert.ok(brief.markdown.includes(wanted), `missing ${wanted}`);
    }
    assert.ok(!brief.markdown.includes(TOKEN));
    assert.ok(!JSON.stringify(brief.json).includes(TOKEN));
    assert.equal((brief.json.main as { port: number }).port, 18789);
  });
});

describe('the handoff', () => {
  const context = (workspace: string, ok = true) => ({
    record: record(), main: instance('main', '/nowhere'), rescue: instance('rescue', workspace), cli: 'node cli.js',
    config: undefined, diff: undefined, wakeAgent: false, timeoutMs: 1_000,
    ensureRescue: async () => ({ ok, detail: ok ? 'up' : 'it crash-loops too' }),
  });

  it('writes the brief and its JSON twin (0600) into the rescue workspace, then archives them when it is over', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'lg-ws-'));
    try {
      const outcome = await handOff(context(workspace));
      assert.equal(outcome.ok, true, outcome.detail);
      for (const file of [BRIEF_FILE, BRIEF_JSON_FILE]) assert.equal(statSync(join(workspace, file)).mode & 0o777, 0o600);
      const archived = await archiveBrief(workspace, 'main-20261125-210000Z');
      assert.equal(archived, join(workspace, 'lifeguard-archive', 'main-20261125-210000Z.md'));
      assert.equal(existsSync(join(workspace, BRIEF_FILE)), false);
      assert.match(readFileSync(archived, 'utf8'), /# lifeguard incident main-20261125-210000Z/);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('fails (for the ladder to page the owner) when the rescue is not up or its workspace is missing or read-only', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'lg-ws-'));
    try {
      assert.match((await handOff(context(workspace, false))).detail, /rescue Gateway is not up: it crash-loops too/);
      assert.match((await handOff(context(join(workspace, 'missing')))).detail, /is not writable/);
      chmodSync(workspace, 0o500);
      const readOnly = await handOff(context(workspace));
      if (process.getuid?.() !== 0) assert.match(readOnly.detail, /is not writable/);
    } finally {
      chmodSync(workspace, 0o700);
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});

describe('the rescue skill', () => {
  it('is installed, kept current, updated when lifeguard wrote it, and never overwrites a hand edit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-skill-'));
    const workspace = join(dir, 'ws');
    const home = join(dir, 'lg');
    try {
      assert.equal((await installSkill(workspace, home)).state, 'installed');
      assert.equal(readFileSync(skillPath(workspace), 'utf8'), renderSkill());
      assert.equal((await installSkill(workspace, home)).state, 'current');
      // An older version lifeguard itself wrote is replaced.
      const old = renderSkill('0.0.1');
      writeFileSync(skillPath(workspace), old);
      writeFileSync(join(home, 'state', 'skill.json'), JSON.stringify({ sha256: (await import('../../src/guard/validate-config.js')).sha256(old) }));
      assert.equal((await installSkill(workspace, home)).state, 'updated');
      // A hand edit stays; the new version waits beside it.
      writeFileSync(skillPath(workspace), `${renderSkill()}\nMy own note.\n`);
      assert.equal((await installSkill(workspace, home)).state, 'kept-user-edit');
      assert.match(readFileSync(skillPath(workspace), 'utf8'), /My own note/);
      assert.equal(readFileSync(`${skillPath(workspace)}.lifeguard-new`, 'utf8'), renderSkill());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the frontmatter both flavours read: name, description, one-line JSON metadata', () => {
    const [, frontmatter] = renderSkill().split('---\n');
    const fields = Object.fromEntries(frontmatter!.trim().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
    assert.equal(fields.name, 'lifeguard');
    assert.equal(fields['user-invocable'], 'false', 'a skill command would shadow the plugin\'s model-free /lifeguard');
    const metadata = JSON.parse(fields.metadata!) as Record<string, { requires: { env: string[] } }>;
    assert.deepEqual(metadata.openclaw?.requires.env, ['LIFEGUARD_CLI']);
    assert.deepEqual(metadata.clawdbot?.requires.env, ['LIFEGUARD_CLI']);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ownerCommandArgs } from '../../src/core/command-line.js';
import { parseConfig } from '../../src/config/load.js';
import { planReload } from '../../src/config/reload.js';
import { stepIncident } from '../../src/incidents/engine.js';
import { applyStep, newRecord } from '../../src/incidents/record.js';
import { buildDigest } from '../../src/incidents/digest.js';
import type { EngineSettings, World } from '../../src/incidents/types.js';
import { diagnose, renderDiagnosis, type DiagnoseFacts } from '../../src/surfaces/diagnose.js';
import { renderIncident } from '../../src/surfaces/incident-view.js';
import { renderWhatNext } from '../../src/launch/what-next.js';
import { buildStatusView, renderStatus } from '../../src/surfaces/status-view.js';
import { facts } from '../helpers/diagnose-facts.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const PARSE_ONLY = fileURLToPath(new URL('../helpers/parse-only.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** Every `npx lifeguard …` in a text, up to where the shell command ends (quote, bracket, `;`, `&&`, end of line). */
function commandsIn(text: string): string[] {
  return [...text.matchAll(/npx lifeguard [^\n`'"),;&|]*/g)].map((m) => m[0].trim().replace(/[.:]$/, ''));
}

const settings: EngineSettings = {
  reminderIntervalMs: 3_600_000, resolveAfterMs: 60_000, maxActionsPerHour: 6, restartAttempts: 2, restartDeadlineMs: 240_000,
  restoreAttempts: 1, restoreDeadlineMs: 240_000, handoffAvailable: false, leaseMs: 600_000, ackDeadlineMs: 180_000,
};

/** What lifeguard itself prints: alerts' commands, diagnose's fixes, `Next:` lines, status, the reload report. */
function renderedCommands(): string[] {
  const at = Date.parse('2026-11-25T21:03:47Z');
  const world: World = {
    at, instance: 'main', health: { state: 'down', classification: 'config-invalid', reason: 'Invalid config' },
    processAlive: false, config: { valid: false, detail: 'syntax' }, configDiffersFromSnapshot: false, restoreSource: undefined,
    rescueUsable: true, peerDown: false, pausedUntil: undefined, actionsLastHour: 0,
  };
  const { incident, effects } = stepIncident(undefined, world, settings);
  const { record, alerts } = applyStep(newRecord(incident!, '/x/openclaw.json'), incident!, effects, at, 'vps1');
  const digest = buildDigest({ at, host: 'vps1', instances: ['main'], incidents: [record], journal: [] });
  const invalid = { valid: false, detail: 'syntax', issues: ['syntax'] } as const;
  const down = { live: false, ready: false, latencyMs: 1500, detail: 'ECONNREFUSED' };
  const variants: Array<Partial<DiagnoseFacts>> = [
    { incident: { id: record.id, rung: 'R1', status: 'open' } },
    { config: invalid, snapshots: { count: 2, newest: 'x', matchesCurrent: false } },
    { config: invalid, snapshots: { count: 0, newest: null, matchesCurrent: false } },
    { port: { port: 18789, holders: [{ pid: 77, command: 'node openclaw.mjs gateway', instance: 'rescue' }] } },
    { pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } },
    { probes: down, pm2: { reachable: false, status: null, pid: null, restarts: null, uptimeMs: null } },
    { probes: down, pm2: { reachable: true, status: 'waiting restart', pid: null, restarts: 3, uptimeMs: null }, snapshots: { count: 1, newest: 'x', matchesCurrent: false } },
    { probes: down, pm2: { reachable: true, status: 'not registered', pid: null, restarts: null, uptimeMs: null } },
    { probes: down, pm2: { reachable: true, status: 'stopped', pid: null, restarts: 0, uptimeMs: null } },
    { probes: { ...down, live: true } },
    { probes: down, pm2: { reachable: true, status: 'online', pid: 4242, restarts: 1, uptimeMs: 20_000 } },
    { probes: down },
  ];
  const diagnoses = variants.map((change) => diagnose(facts(change)));
  const daemon = {
    pid: 1, startedAt: at, updatedAt: at, alertProviders: [],
    configFile: { file: '/home/u/.lifeguard/lifeguard.json5', pending: [{ section: 'instances' as const, needs: 'gateways' as const }], pendingFix: 'npx lifeguard down && npx lifeguard up' },
    instances: [{
      instance: 'main', appName: 'gateway-main', flavour: 'openclaw', port: 18789, configPath: '/x', lastProbe: undefined, pausedUntil: at + 60_000,
      detector: { state: 'down', since: at, reason: 'x', restarts: [] } as never,
      incident: { id: record.id, rung: 'R4', frozen: true, problem: 'down', summary: 's' },
    }],
  };
  const status = renderStatus(buildStatusView(daemon, [], at, [{ name: 'main', appName: 'gateway-main', port: 18789 }]));
  const reload = planReload(parseConfig({}, { source: '/c.json5', home: '/h', userHome: '/u', env: {} }), { ok: false, error: 'x' });
  assert.equal(reload.kind, 'rejected');
  return [
    ...alerts.flatMap((a) => a.commands), ...digest.commands,
    ...diagnoses.flatMap((d) => [...d.fix.flatMap((fix) => (ownerCommandArgs(fix) ? [fix] : commandsIn(fix))), ...commandsIn(renderDiagnosis(d))]),
    ...commandsIn(renderWhatNext({ configFile: '/home/u/.lifeguard/lifeguard.json5', providers: [], providerProblems: [] })),
    ...commandsIn(renderWhatNext({ configFile: '/home/u/.lifeguard/lifeguard.json5', providers: ['hook'], providerProblems: [] })),
    ...commandsIn(renderIncident(record, at)), ...commandsIn(status), ...commandsIn(daemon.configFile.pendingFix),
  ];
}

/** The commands the README and docs/ tell the owner to type: those in their code blocks. */
function documentedCommands(): string[] {
  const docs = ['README.md', ...readdirSync(`${ROOT}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks = (text: string) => [...text.matchAll(/^```[a-z0-9]*\n([^]*?)^```/gm)].map((m) => m[1]!);
  return docs.flatMap((doc) => blocks(readFileSync(`${ROOT}${doc}`, 'utf8')).flatMap(commandsIn));
}

async function parses(command: string): Promise<string | undefined> {
  const args = ownerCommandArgs(command);
  if (args === undefined) return `${command}: not in the form \`npx lifeguard …\``;
  // Placeholders such as <id> or <instance> stand for one word; `[--dir DIR]` is optional; `…` is "and so on".
  const argv = args.join(' ').replace(/\[[^\]]*\]/g, ' ').split(/\s+/).filter((a) => a && a !== '…' && a !== '...');
  try {
    await run(process.execPath, ['--import', PARSE_ONLY, CLI, ...argv], { env: { ...process.env, LIFEGUARD_HOME: '/nonexistent', LIFEGUARD_CONFIG: '' }, timeout: 30_000 });
    return undefined;
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return `${command}: exit ${e.code}: ${(e.stderr ?? '').trim().split('\n')[0]}`;
  }
}

/** The commands the CLI does not accept, with its answer; four parsed at a time. */
async function refused(commands: readonly string[]): Promise<string[]> {
  const unique = [...new Set(commands)];
  const failures: string[] = [];
  for (let i = 0; i < unique.length; i += 4) {
    failures.push(...(await Promise.all(unique.slice(i, i + 4).map(parses))).filter((f): f is string => f !== undefined));
  }
  return failures;
}

describe('every command lifeguard prints runs as printed', { timeout: 180_000 }, () => {
  it('renders them all as `npx lifeguard …`, and the real CLI parses each one', async () => {
    const printed = renderedCommands();
    assert.ok(printed.length > 20, `found only ${printed.length}`);
    assert.deepEqual(await refused(printed), []);
  });

  it('the README and docs/ show only commands the CLI parses', async () => {
    const documented = documentedCommands();
    assert.ok(documented.length > 10, `found only ${documented.length}`);
    assert.deepEqual(await refused(documented), []);
  });
});

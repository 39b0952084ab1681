/**
 * What deploy/ ships for a fleet: the Prometheus rules (with their promtool unit tests), the scrape and
 * Alertmanager examples, and the Grafana dashboard, checked against the metrics lifeguard really exports
 * and the runbook entries docs/fleet.md really has. The promtool/amtool checks need the Debian packages
 * prometheus and prometheus-alertmanager (installed by .ci/run); without them they are skipped, saying so.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/surfaces/metrics.js';
import { parseExposition, sampleMetricsSetup } from '../helpers/exposition.js';
import { tempDir } from '../helpers/temp-dir.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const deploy = (...parts: string[]) => join(REPO_ROOT, 'deploy', ...parts);
const RULES = deploy('prometheus', 'lifeguard-rules.yml');
const installed = (tool: string) => spawnSync(tool, ['--version']).status === 0;
const skipUnless = (tool: string, pkg: string) => (installed(tool) ? false : `${tool} not installed (Debian package ${pkg})`);

function run(tool: string, args: readonly string[], cwd = REPO_ROOT): string {
  const result = spawnSync(tool, args, { cwd, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.status, 0, `${tool} ${args.join(' ')}:\n${output}`);
  return output;
}

/** Every `lifeguard_*` family named in a text, histogram suffixes taken off. */
const familiesIn = (text: string) => new Set([...text.matchAll(/\blifeguard_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));

/** GitHub-style anchors of the headings of a Markdown file. */
const anchorsOf = (markdown: string) =>
  new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')));

describe('deploy/: rules, examples and dashboard for a fleet', () => {
  const rules = readFileSync(RULES, 'utf8');

  it('the rules pass `promtool check rules` and their unit tests (`promtool test rules`)', { skip: skipUnless('promtool', 'prometheus') }, () => {
    assert.match(run('promtool', ['check', 'rules', RULES]), /SUCCESS: 9 rules found/);
    assert.match(run('promtool', ['test', 'rules', deploy('prometheus', 'lifeguard-rules.test.yml')]), /SUCCESS/);
  });

  it('every alert has a runbook link to an entry that exists in docs/fleet.md', () => {
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const links = [...rules.matchAll(/runbook_url: docs\/fleet\.md#([a-z0-9-]+)/g)].map((m) => m[1]!);
    assert.equal(alerts.length, 9);
    assert.deepEqual(links, alerts.map((a) => a.toLowerCase()), 'one runbook link per alert, named after it');
    const anchors = anchorsOf(readFileSync(join(REPO_ROOT, 'docs', 'fleet.md'), 'utf8'));
    for (const link of links) assert.ok(anchors.has(link), `docs/fleet.md has no heading for #${link}`);
  });

  it('the rules and the dashboard use only metrics lifeguard exports', async () => {
    const exported = new Set(parseExposition(await createMetrics(sampleMetricsSetup()).render()).types.keys());
    const dashboard = readFileSync(deploy('grafana', 'lifeguard-dashboard.json'), 'utf8');
    for (const [what, text] of [['rules', rules], ['dashboard', dashboard]] as const) {
      const used = familiesIn(text);
      assert.ok(used.size > 5, what);
      for (const family of used) assert.ok(exported.has(family), `${what} use ${family}, which lifeguard does not export`);
    }
  });

  it('the dashboard is importable JSON with a Prometheus data source input and a query in every panel', () => {
    const dashboard = JSON.parse(readFileSync(deploy('grafana', 'lifeguard-dashboard.json'), 'utf8')) as {
      __inputs: Array<{ name: string; pluginId: string }>; panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.pluginId]), [['DS_PROMETHEUS', 'prometheus']]);
    for (const panel of dashboard.panels) assert.ok(panel.targets.length > 0 && panel.targets.every((t) => t.expr.length > 0), panel.title);
  });

  it('the scrape config example passes `promtool check config`', { skip: skipUnless('promtool', 'prometheus') }, () => {
    // It names files under /etc/prometheus; promtool wants them to exist, so they are pointed at real ones.
    const dir = tempDir('lg-deploy-');
    writeFileSync(join(dir, 'lifeguard-token'), 'x'.repeat(64));
    const config = readFileSync(deploy('prometheus', 'prometheus.example.yml'), 'utf8')
      .replace('/etc/prometheus/lifeguard-rules.yml', RULES)
      .replace('/etc/prometheus/lifeguard-token', join(dir, 'lifeguard-token'));
    writeFileSync(join(dir, 'prometheus.yml'), config);
    assert.match(run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]), /SUCCESS: 9 rules found/);
  });

  it('the Alertmanager example passes `amtool check-config`', { skip: skipUnless('amtool', 'prometheus-alertmanager') }, () => {
    assert.match(run('amtool', ['check-config', deploy('alertmanager', 'alertmanager.example.yml')]), /SUCCESS/);
  });
});

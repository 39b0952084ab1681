/** Reading lifeguard's `/metrics` the way Prometheus does, for the unit and end-to-end tests. */
import assert from 'node:assert/strict';
import type { MetricsReading, MetricsSetup } from '../../src/surfaces/metrics.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is HELP, TYPE or a sample of a family
 * whose TYPE came first, with well-formed labels and a numeric value. Throws on anything else.
 */
export function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        assert.match(comment[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    const [, name, labelText, valueText] = sample;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(name!) || ['histogram', 'summary'].includes(types.get(family) ?? ''), `no TYPE before ${name}`);
    const labels: Record<string, string> = {};
    if (labelText) {
      const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (const match of labelText.matchAll(labelPattern)) {
        labels[match[1]!] = match[2]!;
        consumed += match[0].length;
      }
      assert.equal(consumed, labelText.length, `malformed labels: ${line}`);
    }
    // Prometheus reads values with Go's ParseFloat, which takes NaN in any case (prom-client writes "Nan").
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(valueText!), `not a number: ${line}`);
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}

export const valueOf = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;


/** Both Gateways healthy, the main's config valid, no incident, PM2 reachable: a quiet host. */
export const QUIET_HOST: MetricsReading = {
  gateways: [
    { gateway: 'main', state: 'healthy', config: 'valid', incident: undefined, paused: false },
    { gateway: 'rescue', state: 'healthy', config: undefined, incident: undefined, paused: false },
  ],
  pm2Reachable: true,
};

export function sampleMetricsSetup(read: () => MetricsReading = () => QUIET_HOST): MetricsSetup {
  return { build: { version: '0.1.0', flavour: 'openclaw', gatewayVersion: '2026.9.6' }, providers: ['ops-telegram'], read };
}

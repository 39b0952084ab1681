import type { JournalEntry } from '../surfaces/journal.js';
import type { Alert } from '../notify/types.js';
import type { IncidentRecord } from './record.js';
import { ownerCommand } from '../core/command-line.js';

const DAY_MS = 86_400_000;

export interface DigestInput {
  readonly at: number;
  readonly host: string;
  readonly instances: readonly string[];
  readonly incidents: readonly IncidentRecord[];
  readonly journal: readonly JournalEntry[];
}

/**
 * The daily summary for providers that opt in (`digest: true`): per instance the share of the last 24 h
 * it was not in an incident, its restarts, and the incidents of the day. Pure.
 */
export function buildDigest(input: DigestInput): Alert {
  const from = input.at - DAY_MS;
  const details: Record<string, string> = {};
  const lines: string[] = [];
  for (const instance of input.instances) {
    const incidents = input.incidents.filter((r) => r.instance === instance && (r.resolvedAt ?? input.at) > from);
    const troubledMs = incidents.reduce((sum, r) => sum + Math.max(0, Math.min(r.resolvedAt ?? input.at, input.at) - Math.max(r.openedAt, from)), 0);
    const uptime = Math.max(0, 100 * (1 - troubledMs / DAY_MS));
    const restarts = input.journal.filter((e) => e.instance === instance && e.to === 'recovering' && Date.parse(e.ts) > from).length;
    const open = incidents.filter((r) => r.status === 'open').length;
    details[instance] = `${uptime.toFixed(2)}% without incident, ${incidents.length} incident(s)${open ? ` (${open} open)` : ''}, ${restarts} restart(s)`;
    lines.push(`${instance} ${uptime.toFixed(1)}%`);
  }
  for (const r of input.incidents.filter((i) => (i.resolvedAt ?? input.at) > from).slice(0, 10)) {
    details[r.id] = `${r.status}: ${r.summary}`.slice(0, 200);
  }
  const day = new Date(input.at).toISOString().slice(0, 10);
  return {
    event: 'digest',
    incidentId: null,
    instance: null,
    severity: 'info',
    summary: `lifeguard daily digest for ${input.host}: ${lines.join(', ')}`,
    details,
    commands: [ownerCommand('incidents'), ownerCommand('status')],
    at: new Date(input.at).toISOString(),
    idempotencyKey: `digest-${input.host.replace(/[^A-Za-z0-9-]/g, '_')}-${day}`,
    host: input.host,
  };
}

import { RUNG_NAMES } from '../incidents/ladder.js';
import type { IncidentRecord } from '../incidents/record.js';
import { formatDuration } from '../core/duration.js';
import { ownerCommand } from '../core/command-line.js';

const time = (at: number) => new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function what(record: IncidentRecord): string {
  return `${record.problem}${record.classification && record.classification !== record.problem ? ` [${record.classification}]` : ''}`;
}

function lasted(record: IncidentRecord, now: number): string {
  return formatDuration((record.resolvedAt ?? now) - record.openedAt);
}

export function renderIncidentList(records: readonly IncidentRecord[], now: number): string {
  if (records.length === 0) return 'No incidents recorded.';
  const rows = records.map((r) => [
    r.id, r.status === 'open' ? (r.frozen ? 'OPEN, frozen' : 'OPEN') : 'resolved', what(r), r.rung, time(r.openedAt), lasted(r, now), r.ack ? `acked by ${r.ack.by}` : '',
  ]);
  const header = ['ID', 'STATUS', 'PROBLEM', 'RUNG', 'OPENED', 'LASTED', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function renderIncident(r: IncidentRecord, now: number): string {
  const lines = [
    `Incident ${r.id}: ${r.status.toUpperCase()}${r.frozen ? ' (automation frozen until ack)' : ''}`,
    `  instance   ${r.instance} (config ${r.configPath})`,
    `  problem    ${what(r)}, severity ${r.severity}`,
    `  summary    ${r.summary}`,
    `  rung       ${r.rung}: ${RUNG_NAMES[r.rung]}`,
    `  opened     ${time(r.openedAt)}, lasted ${lasted(r, now)}${r.resolvedAt ? `, resolved ${time(r.resolvedAt)}` : ''}`,
    `  ack        ${r.ack ? `${r.ack.by} at ${time(r.ack.at)}` : '-'}`,
  ];
  if (r.timeToRecoverMs !== undefined) lines.push(`  recovered  in ${formatDuration(r.timeToRecoverMs)}`);
  if (r.actions.length > 0) {
    lines.push('', 'Actions:');
    for (const a of r.actions) lines.push(`  ${time(a.at)}  ${a.rung} ${a.action}: ${a.status}${a.detail ? ` (${a.detail})` : ''}`);
  }
  if (r.deliveries.length > 0) {
    lines.push('', 'Alerts:');
    for (const d of r.deliveries) lines.push(`  ${time(d.at)}  ${d.event} → ${d.provider}: ${d.status}${d.attempts > 1 ? ` after ${d.attempts} attempts` : ''}${d.error ? ` (${d.error})` : ''}`);
  }
  if (r.errorOutput.length > 0) {
    lines.push('', "The Gateway's own error output:");
    for (const l of r.errorOutput.slice(-10)) lines.push(`  ${l}`);
  }
  lines.push('', 'Timeline:');
  for (const e of r.timeline) lines.push(`  ${time(e.at)}  ${e.kind.padEnd(8)} ${e.text}`);
  if (r.status === 'open') {
    lines.push('', 'Next:', `  ${ownerCommand('status')}`, ...(r.ack ? [] : [`  ${ownerCommand(`incident ack ${r.id}`)}`]), `  ${ownerCommand(`incident resolve ${r.id}`)}   # once it is fixed`);
  }
  return lines.join('\n');
}

import type { Command } from 'commander';
import { acknowledge, resolveIncident } from '../../incidents/engine.js';
import { applyStep } from '../../incidents/record.js';
import { incidentsDir, listIncidents, requireIncident, updateIncident } from '../../incidents/store.js';
import { listUnreadable, scanRecords } from '../../housekeeping/records.js';
import type { Alert } from '../../notify/types.js';
import { renderIncident, renderIncidentList } from '../incident-view.js';
import { actor, host, loadCommandConfig, printJson, queueFromCommand, stderr, stdout } from './context.js';

export function registerIncidentCommands(program: Command): void {
  program
    .command('incidents')
    .description('list incidents, newest first (open ones are marked)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'machine-readable output')
    .action(async (options: { limit: string; json?: boolean }) => {
      const config = await loadCommandConfig({ tolerant: true });
      const records = await listIncidents(config.home, Math.max(1, Number.parseInt(options.limit, 10) || 20));
      // Records that cannot be read are named, never silently left out: those still in place, and those housekeeping moved aside.
      const dir = incidentsDir(config.home);
      const unreadable = [...(await scanRecords(dir)).unreadable, ...await listUnreadable(dir)];
      if (options.json) printJson(records.map(({ timeline: _t, logTail: _l, ...summary }) => summary));
      else stdout(renderIncidentList(records, Date.now()));
      if (unreadable.length > 0) stderr(`Unreadable incident records (kept, not shown above):\n${unreadable.map((file) => `  ${file}`).join('\n')}`);
    });

  const incident = program.command('incident').description('show, acknowledge or resolve one incident');
  incident
    .command('show <id>')
    .description('everything recorded about one incident: timeline, actions, alerts and their delivery, error output')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const config = await loadCommandConfig({ tolerant: true });
      const record = await requireIncident(config.home, id);
      if (options.json) printJson(record);
      else stdout(renderIncident(record, Date.now()));
    });

  incident
    .command('ack <id>')
    .description('take the incident: reminders stop, and automation frozen at R4 resumes')
    .option('--by <name>', 'who acknowledges (default: the user running the command)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { by?: string; json?: boolean }) => {
      await operate(id, options, (record, by, at) => acknowledge(record, by, at), 'acknowledged');
    });

  incident
    .command('resolve <id>')
    .description('close the incident now (tells the owner it is resolved)')
    .option('--by <name>', 'who resolves (default: the user running the command)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { by?: string; json?: boolean }) => {
      await operate(id, options, (record, by, at) => resolveIncident(record, by, at), 'resolved');
    });
}

async function operate(
  id: string,
  options: { by?: string; json?: boolean },
  change: typeof acknowledge,
  verb: string,
): Promise<void> {
  const config = await loadCommandConfig();
  const by = actor(options.by);
  const at = Date.now();
  const alerts: Alert[] = [];
  let changed = false;
  const record = await updateIncident(config.home, id, async (current) => {
    const { incident, effects } = change(current, by, at);
    if (!incident || (incident === current && effects.length === 0)) return undefined;
    changed = true;
    const applied = applyStep(current, incident, effects, at, host);
    await queueFromCommand(config, applied.alerts);
    alerts.push(...applied.alerts);
    return applied.record;
  });
  if (options.json) {
    printJson({ id: record.id, changed, status: record.status, ack: record.ack ?? null, frozen: record.frozen, alerts: alerts.map((a) => a.event) });
    return;
  }
  if (!changed) stdout(`Incident ${id} was already ${record.status === 'resolved' ? 'resolved' : verb}; nothing changed.`);
  else stdout(`Incident ${id} ${verb} by ${by}.${alerts.length ? ' The owner is told.' : ''}${record.status === 'open' && verb === 'acknowledged' ? ackConsequence(record) : ''}`);
}

function ackConsequence(record: { lease?: { until: number } | undefined; frozen: boolean }): string {
  if (record.lease && record.lease.until > Date.now()) return ` The rescue holds the main until ${new Date(record.lease.until).toISOString()}; lifeguard keeps off it until then.`;
  return ' Reminders stop; lifeguard may restart the instance by itself again (the ladder does not climb further in this incident).';
}

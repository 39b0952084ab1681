import { readFile } from 'node:fs/promises';
import { redactText } from '../../secrets/redact.js';
import { readConfigFile } from '../../guard/validate-config.js';
import { findOpenIncident } from '../../incidents/store.js';
import { findPortHolders } from '../../isolation/port-holders.js';
import type { PortHolder } from '../../isolation/rules.js';
import { listPm2Apps } from '../../pm2/rpc-list.js';
import { runProbeCycle } from '../../probes/cycle.js';
import { GatewaySession } from '../../probes/gateway-ws.js';
import { listSnapshots } from '../../snapshots/store.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { describeConfigVerdict, diagnose, recentExits, type Diagnosis, type PortHolderFact } from '../diagnose.js';
import { readJournal, readLogTail } from './log-tail.js';
import { ONE_SHOT_PROBE_MS } from './restart.js';
import { endpointOf, validateTarget, type RepairTarget } from './target.js';

async function holderFacts(holder: PortHolder | undefined, secrets: readonly string[]): Promise<PortHolderFact[]> {
  if (!holder || holder.kind === 'free') return [];
  const pid = holder.pid ?? null;
  const command = holder.kind === 'foreign'
    ? holder.command
    : (await readFile(`/proc/${holder.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ').slice(0, 120);
  // Someone else's command line may carry a secret as an argument.
  return [{ pid, command: command ? redactText(command, secrets) : null, instance: holder.kind === 'own' ? holder.instance : null }];
}

/** Every check `diagnose` runs, at once, then the verdict. */
export async function gatherDiagnosis(target: RepairTarget): Promise<Diagnosis> {
  const { settings, instance } = target;
  const session = new GatewaySession(endpointOf(instance).url, LIFEGUARD_VERSION);
  const probe = runProbeCycle(instance, session, Math.max(settings.probes.timeoutMs, ONE_SHOT_PROBE_MS)).finally(() => session.close());
  const [probes, verdict, holders, apps, incident, snapshots, current, journal, logs] = await Promise.all([
    probe,
    validateTarget(target),
    findPortHolders([instance.port]),
    listPm2Apps(process.env).catch(() => undefined),
    findOpenIncident(settings.home, instance.name),
    listSnapshots(settings.home, instance.name).catch(() => []),
    readConfigFile(instance.configPath),
    readJournal(settings.home),
    readLogTail(target, 20),
  ]);
  const currentHash = current.state === 'parsed' || current.state === 'syntax' ? current.hash : undefined;
  const app = apps?.find((a) => a.name === instance.appName);
  return diagnose({
    instance: instance.name,
    configPath: instance.configPath,
    startupGraceMs: settings.probes.startupGraceMs,
    probes: { live: probes.live, ready: probes.ready, latencyMs: probes.latencyMs, detail: redactText(probes.detail, target.secrets) },
    config: describeConfigVerdict(verdict),
    port: { port: instance.port, holders: await holderFacts(holders.get(instance.port), target.secrets) },
    pm2: {
      reachable: apps !== undefined,
      status: apps !== undefined ? app?.status ?? 'not registered' : null,
      pid: app?.pid ?? null,
      restarts: app?.restarts ?? null,
      uptimeMs: app?.uptimeSince === undefined ? null : Math.max(0, Date.now() - app.uptimeSince),
    },
    recentExits: recentExits(journal, incident?.timeline ?? [], instance.name),
    incident: incident ? { id: incident.id, rung: incident.rung, status: incident.status } : null,
    snapshots: { count: snapshots.length, newest: snapshots[0]?.id ?? null, matchesCurrent: snapshots[0] !== undefined && snapshots[0].hash === currentHash },
    logTail: logs.lines,
  });
}

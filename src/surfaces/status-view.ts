import { formatDuration } from '../core/duration.js';
import type { AppStatus } from '../pm2/app-status.js';
import type { DaemonStatus, InstanceStatus } from '../daemon/status-store.js';
import { ownerCommand } from '../core/command-line.js';
import { noAlertsWarning } from '../launch/what-next.js';

export interface InstanceView {
  readonly instance: string;
  readonly state: string;
  readonly reason: string;
  readonly classification: string | null;
  readonly since: string | null;
  readonly pid: number | null;
  /** The port that runs (PM2's arguments, else the supervisor's record), not what an edited config now says. */
  readonly port: number | null;
  readonly pm2Status: string;
  readonly restarts: number | null;
  readonly uptimeMs: number | null;
  readonly lastProbe: { at: string; ok: boolean; ready: boolean; latencyMs: number; detail: string } | null;
  readonly incident: { id: string; rung: string; frozen: boolean; problem: string; summary: string } | null;
  readonly pausedUntil: string | null;
  /** Why lifeguard will not restart it by itself right now (pause, frozen incident, invalid config, budget). */
  readonly automationHeld: string | null;
  readonly config: { valid: boolean | 'unknown'; detail: string; at: string } | null;
}

export interface StatusView {
  readonly supervisor: { running: boolean; pid: number | null; updatedAt: string | null; note: string | null };
  /** Absolute path of the lifeguard config file in effect (the supervisor's; else the one this command found). */
  readonly configFile: string | null;
  /** The latest edit of that file: sections waiting for a restart (and the command that applies them), or why it was rejected. */
  readonly configEdit: { pending: string[]; pendingFix: string | null; error: string | null; appliedAt: string | null } | null;
  /** The alert destinations in force; empty: nobody is told. Null while the supervisor has not said. */
  readonly alertProviders: string[] | null;
  readonly instances: InstanceView[];
}

/** A status older than this means the supervisor stopped writing it. */
const STALE_MS = 30_000;

/** Joins the supervisor's view with PM2's live one; either may be missing (that is when status matters most). */
export function buildStatusView(
  daemon: DaemonStatus | undefined,
  apps: readonly AppStatus[] | undefined,
  now: number,
  instances: ReadonlyArray<{ name: string; appName: string; port?: number }>,
  configSource?: string,
): StatusView {
  const stale = daemon === undefined || now - daemon.updatedAt > STALE_MS;
  const supervisorApp = apps?.find((a) => a.name === 'lifeguard');
  const note = apps === undefined
    ? 'PM2 daemon not reachable: showing the last state lifeguard recorded'
    : daemon === undefined
      ? 'lifeguard has not recorded any state yet'
      : stale
        ? `lifeguard's state is ${Math.round((now - daemon.updatedAt) / 1000)} s old: is the supervisor running?`
        : null;
  return {
    supervisor: {
      running: supervisorApp?.status === 'online' && !stale,
      pid: supervisorApp?.pid ?? null,
      updatedAt: daemon ? new Date(daemon.updatedAt).toISOString() : null,
      note,
    },
    configFile: daemon?.configFile?.file ?? configSource ?? null,
    configEdit: daemon?.configFile
      ? {
        pending: daemon.configFile.pending.map((p) => p.section),
        pendingFix: daemon.configFile.pendingFix ?? null,
        error: daemon.configFile.error ?? null,
        appliedAt: daemon.configFile.appliedAt ? new Date(daemon.configFile.appliedAt).toISOString() : null,
      }
      : null,
    alertProviders: daemon?.alertProviders ? [...daemon.alertProviders] : null,
    instances: instances.map((spec) => {
      const recorded: InstanceStatus | undefined = daemon?.instances.find((i) => i.instance === spec.name);
      const app = apps?.find((a) => a.name === spec.appName);
      const detector = recorded?.detector;
      return {
        instance: spec.name,
        state: stale && detector ? `${detector.state} (stale)` : detector?.state ?? 'unknown',
        reason: detector?.reason ?? 'no supervisor state',
        classification: detector?.classification ?? null,
        since: detector ? new Date(detector.since).toISOString() : null,
        pid: app?.pid ?? detector?.pid ?? null,
        port: app?.port ?? recorded?.port ?? spec.port ?? null,
        pm2Status: apps === undefined ? 'unknown' : app?.status ?? 'not registered',
        restarts: app?.restarts ?? null,
        uptimeMs: app?.uptimeSince !== undefined ? Math.max(0, now - app.uptimeSince) : null,
        lastProbe: recorded?.lastProbe
          ? { at: new Date(recorded.lastProbe.at).toISOString(), ok: recorded.lastProbe.live, ready: recorded.lastProbe.ready, latencyMs: recorded.lastProbe.latencyMs, detail: recorded.lastProbe.detail }
          : null,
        incident: stale ? null : recorded?.incident ?? null,
        pausedUntil: recorded?.pausedUntil !== undefined && recorded.pausedUntil > now ? new Date(recorded.pausedUntil).toISOString() : null,
        automationHeld: stale ? null : detector?.hold ?? null,
        config: recorded?.config ? { ...recorded.config, at: new Date(recorded.config.at).toISOString() } : null,
      };
    }),
  };
}


export function renderStatus(view: StatusView): string {
  const lines: string[] = [];
  const sup = view.supervisor;
  lines.push(`lifeguard supervisor: ${sup.running ? `running (pid ${sup.pid})` : 'NOT running'}${sup.note ? ` (${sup.note})` : ''}`);
  lines.push(`config file  ${view.configFile ?? 'none (built-in defaults)'}`);
  const edit = view.configEdit;
  if (edit?.error) lines.push(`  edit REJECTED, the last good settings stay in force: ${edit.error.split('\n').join('\n  ')}`);
  if (edit && edit.pending.length > 0) lines.push(`  edited ${edit.pending.join(', ')}: waits for a restart (${edit.pendingFix})`);
  if (view.alertProviders?.length === 0) lines.push(`alerts       NONE: ${noAlertsWarning(view.configFile ?? undefined)}`);
  else if (view.alertProviders) lines.push(`alerts       ${view.alertProviders.join(', ')}`);
  for (const i of view.instances) {
    lines.push('');
    lines.push(`${i.instance}: ${i.state.toUpperCase()}${i.classification ? ` [${i.classification}]` : ''}`);
    lines.push(`  reason     ${i.reason}`);
    lines.push(`  process    pid ${i.pid ?? '-'}, PM2 ${i.pm2Status}, restarts ${i.restarts ?? '-'}, uptime ${i.uptimeMs === null ? '-' : formatDuration(i.uptimeMs)}`);
    lines.push(`  port       ${i.port ?? '-'}`);
    if (i.config) lines.push(`  config     ${i.config.valid === true ? 'valid' : i.config.valid === false ? 'INVALID' : 'not checked'}: ${i.config.detail}`);
    if (i.incident) lines.push(`  incident   ${i.incident.id} at ${i.incident.rung}${i.incident.frozen ? ' (frozen: waits for an ack)' : ''}: ${ownerCommand(`incident show ${i.incident.id}`)}`);
    if (i.pausedUntil) lines.push(`  paused     until ${i.pausedUntil} (${ownerCommand(`resume ${i.instance}`)})`);
    if (i.automationHeld) lines.push(`  held       no automated restart: ${i.automationHeld}`);
    lines.push(`  last probe ${i.lastProbe ? `${i.lastProbe.ok ? (i.lastProbe.ready ? 'ok' : 'live, not ready') : 'FAILED'} in ${i.lastProbe.latencyMs} ms at ${i.lastProbe.at}: ${i.lastProbe.detail}` : '-'}`);
  }
  return lines.join('\n');
}

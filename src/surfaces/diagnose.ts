import { summarizeVerdict, type ConfigVerdict } from '../guard/validate-config.js';
import type { TimelineEntry } from '../incidents/record.js';
import type { JournalEntry } from './journal.js';
import { formatDuration } from '../core/duration.js';
import { ownerCommand } from '../core/command-line.js';

/** What `lifeguard diagnose` concludes about one Gateway. */
export const VERDICTS = ['healthy', 'degraded', 'down', 'config-invalid', 'port-conflict', 'not-running', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ExitFact {
  readonly at: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string;
}

export interface PortHolderFact {
  readonly pid: number | null;
  readonly command: string | null;
  /** The lifeguard instance whose Gateway this is (its LIFEGUARD_INSTANCE), else null: a foreign process. */
  readonly instance: string | null;
}

/** Everything `diagnose` found, gathered fresh; the verdict is decided from this alone. */
export interface DiagnoseFacts {
  readonly instance: string;
  readonly configPath: string;
  readonly startupGraceMs: number;
  readonly probes: { readonly live: boolean; readonly ready: boolean; readonly latencyMs: number; readonly detail: string };
  readonly config: { readonly valid: boolean | 'unknown'; readonly detail: string; readonly issues: readonly string[] };
  readonly port: { readonly port: number; readonly holders: readonly PortHolderFact[] };
  readonly pm2: {
    readonly reachable: boolean;
    /** PM2's status of the app, `not registered`, or null when PM2 cannot be asked. */
    readonly status: string | null;
    readonly pid: number | null;
    readonly restarts: number | null;
    readonly uptimeMs: number | null;
  };
  readonly recentExits: readonly ExitFact[];
  readonly incident: { readonly id: string; readonly rung: string; readonly status: string } | null;
  readonly snapshots: { readonly count: number; readonly newest: string | null; readonly matchesCurrent: boolean };
  readonly logTail: readonly string[];
}

/** The `diagnose --json` document. */
export interface Diagnosis {
  readonly instance: string;
  readonly verdict: Verdict;
  readonly summary: string;
  readonly fix: string[];
  readonly probes: DiagnoseFacts['probes'];
  readonly config: { readonly valid: boolean | 'unknown'; readonly detail: string };
  readonly port: { readonly port: number; readonly holders: Array<{ pid: number | null; command: string | null }> };
  readonly pm2: DiagnoseFacts['pm2'];
  readonly recentExits: Array<{ at: string; code: number | null; signal: string | null; reason: string }>;
  readonly incident: DiagnoseFacts['incident'];
  readonly snapshots: DiagnoseFacts['snapshots'];
  readonly logTail: string[];
}

/** PM2 states in which it is (re)starting the process by itself. */
const RESTARTING = new Set(['launching', 'waiting restart', 'stopping']);

/** Decides the verdict, its one-line summary and the commands that would fix it. Pure. */
export function diagnose(f: DiagnoseFacts): Diagnosis {
  const { verdict, summary, fix } = decide(f);
  const incidentFix = f.incident?.status === 'open' && verdict === 'healthy' ? [ownerCommand(`incident resolve ${f.incident.id}`)] : [];
  return {
    instance: f.instance,
    verdict,
    summary,
    fix: [...fix, ...incidentFix],
    probes: f.probes,
    config: { valid: f.config.valid, detail: f.config.detail },
    port: { port: f.port.port, holders: f.port.holders.map(({ pid, command }) => ({ pid, command })) },
    pm2: f.pm2,
    recentExits: f.recentExits.map((e) => ({ at: new Date(e.at).toISOString(), code: e.code, signal: e.signal, reason: e.reason })),
    incident: f.incident,
    snapshots: f.snapshots,
    logTail: [...f.logTail],
  };
}

function decide(f: DiagnoseFacts): { verdict: Verdict; summary: string; fix: string[] } {
  const name = f.instance;
  const online = f.pm2.reachable && f.pm2.status === 'online';
  const running = online ? `it still runs (pid ${f.pm2.pid ?? '?'}) on the config it loaded earlier, but its next start will fail` : 'it cannot start with it';
  const lastExit = f.recentExits[0] ? `; last exit ${describeExitFact(f.recentExits[0])}` : '';

  if (f.config.valid === false) {
    const restore = f.snapshots.count > 0 && !f.snapshots.matchesCurrent;
    return {
      verdict: 'config-invalid',
      summary: `${name}'s config is invalid (${f.config.detail}); ${running}`,
      fix: restore
        ? [ownerCommand(`config diff ${name}`), ownerCommand(`config restore ${name}`)]
        : [ownerCommand(`config validate ${name}`), `edit ${f.configPath} to fix: ${f.config.issues[0] ?? f.config.detail}`, ownerCommand(`restart ${name}`)],
    };
  }

  const intruder = f.port.holders.find((h) => !isOwnProcess(h, f));
  if (intruder) {
    const who = describeHolder(intruder, name);
    const stop = intruder.pid === null
      ? `find and stop what holds port ${f.port.port} (it belongs to another user): ss -ltnp 'sport = :${f.port.port}'`
      : intruder.instance !== null && intruder.instance !== name
        ? `give ${name} and ${intruder.instance} different ports in lifeguard.json5, then check with: ${ownerCommand('check')}`
        : `kill ${intruder.pid}   # ${who}`;
    return { verdict: 'port-conflict', summary: `port ${f.port.port} is held by ${who}, not by ${name}'s Gateway under PM2`, fix: [stop, ownerCommand(`restart ${name}`)] };
  }

  if (!f.pm2.reachable) {
    return f.probes.live
      ? { verdict: 'unknown', summary: `${name} answers on port ${f.port.port}, but the PM2 daemon is not reachable, so nothing watches or restarts it`, fix: [ownerCommand('status'), ownerCommand('up')] }
      : { verdict: 'not-running', summary: `the PM2 daemon is not running, so ${name} is not either`, fix: [ownerCommand('up')] };
  }

  const status = f.pm2.status ?? 'unknown';
  if (!online) {
    if (RESTARTING.has(status)) {
      return {
        verdict: 'down',
        summary: `${name} keeps exiting: PM2 is restarting it (${status}, ${f.pm2.restarts ?? '?'} restarts)${lastExit}`,
        fix: [ownerCommand(`logs ${name} --lines 100`), ...(f.snapshots.count > 0 && !f.snapshots.matchesCurrent ? [ownerCommand(`config diff ${name}`)] : [])],
      };
    }
    if (status === 'not registered') return { verdict: 'not-running', summary: `${name} is not registered in PM2`, fix: [ownerCommand('up')] };
    return { verdict: 'not-running', summary: `${name} is not running (PM2: ${status})${lastExit}`, fix: [ownerCommand(`restart ${name}`)] };
  }

  const uptime = f.pm2.uptimeMs === null ? '' : `, up ${formatDuration(f.pm2.uptimeMs)}`;
  if (f.probes.live && f.probes.ready) {
    const config = f.config.valid === 'unknown' ? `; config not checked: ${f.config.detail}` : '';
    return { verdict: 'healthy', summary: `${name} is healthy: answered in ${f.probes.latencyMs} ms (pid ${f.pm2.pid ?? '?'}${uptime})${config}`, fix: [] };
  }
  if (f.probes.live) {
    return { verdict: 'degraded', summary: `${name} is live but not ready: ${f.probes.detail}`, fix: [ownerCommand(`logs ${name} --lines 100`)] };
  }
  const starting = f.pm2.uptimeMs !== null && f.pm2.uptimeMs < f.startupGraceMs;
  return {
    verdict: 'down',
    summary: `${name} runs (pid ${f.pm2.pid ?? '?'}${uptime}) but does not answer: ${f.probes.detail}`,
    fix: starting
      ? [ownerCommand(`diagnose ${name}   # again in a minute: it started ${formatDuration(f.pm2.uptimeMs ?? 0)} ago and a Gateway takes 10-60 s to come up`)]
      : [ownerCommand(`logs ${name} --lines 100`), ownerCommand(`restart ${name}`)],
  };
}

/** Our Gateway of this instance, run by PM2 (or PM2 cannot be asked, and it is still the likeliest owner). */
function isOwnProcess(h: PortHolderFact, f: DiagnoseFacts): boolean {
  if (h.instance !== f.instance) return false;
  return !f.pm2.reachable || (f.pm2.status === 'online' && h.pid === f.pm2.pid);
}

function describeHolder(h: PortHolderFact, name: string): string {
  if (h.pid === null) return 'a process of another user';
  if (h.instance === name) return `an orphaned ${name} Gateway (pid ${h.pid}) that PM2 does not run`;
  if (h.instance !== null) return `the ${h.instance} Gateway (pid ${h.pid})`;
  return `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`;
}

function describeExitFact(e: ExitFact): string {
  return `${e.signal ? `by ${e.signal}` : `with code ${e.code ?? '?'}`} at ${new Date(e.at).toISOString()}`;
}

/** One line for a config verdict, as the supervisor's status shows it. */
export function describeConfigVerdict(verdict: ConfigVerdict): { valid: boolean | 'unknown'; detail: string; issues: readonly string[] } {
  return { ...summarizeVerdict(verdict), issues: verdict.valid === false ? verdict.issues : [] };
}

// ---------------------------------------------------------------------------------------------------
// Recent exits: the journal says why, the incident's PM2 notes say exactly how (and also list requested exits).

const JOURNAL_EXIT = /exited with code (-?\d+)|killed by (SIG[A-Z0-9]+)|exited \(killed by a signal\)/;
const TIMELINE_EXIT = /^exit of pid \S+: (?:code (-?\d+|\?)|signal (SIG[A-Z0-9]+))/;
/**
 * Two records this close together with the same code describe one exit: the journal line and the incident
 * note of it, or PM2's two `exit` events of a requested stop. A crash loop's exits are further apart (PM2
 * waits at least a second before each restart).
 */
const SAME_EXIT_MS = 1_500;

export function recentExits(journal: readonly JournalEntry[], timeline: readonly TimelineEntry[], instance: string, limit = 5): ExitFact[] {
  const exits: ExitFact[] = [];
  for (const entry of journal) {
    const match = entry.instance === instance && entry.to === 'down' ? JOURNAL_EXIT.exec(entry.reason) : null;
    const at = Date.parse(entry.ts);
    if (!match || Number.isNaN(at)) continue;
    exits.push({ at, code: match[1] === undefined ? null : Number(match[1]), signal: match[2] ?? null, reason: `${entry.classification ? `[${entry.classification}] ` : ''}${entry.reason}` });
  }
  for (const entry of timeline) {
    const match = entry.kind === 'pm2' ? TIMELINE_EXIT.exec(entry.text) : null;
    if (!match) continue;
    const code = match[1] === undefined || match[1] === '?' ? null : Number(match[1]);
    const fact = { at: entry.at, code, signal: match[2] ?? null, reason: entry.text };
    if (!exits.some((e) => Math.abs(e.at - fact.at) <= SAME_EXIT_MS && e.code === fact.code && e.signal === fact.signal)) exits.push(fact);
  }
  return exits.sort((a, b) => b.at - a.at).slice(0, limit);
}

// ---------------------------------------------------------------------------------------------------
// Log lines

const LEADING_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/;

/**
 * The last `limit` lines of several streams (a Gateway's stdout and stderr files) in time order, by the
 * timestamp the Gateway starts its lines with. A line without one keeps the time of the line before it;
 * streams without any stay in the order given.
 */
export function mergeLogLines(streams: ReadonlyArray<readonly string[]>, limit: number): string[] {
  const keyed: Array<{ at: number; line: string }> = [];
  for (const lines of streams) {
    let at = Number.NEGATIVE_INFINITY;
    for (const line of lines) {
      const stamp = LEADING_TIME.exec(line)?.[1];
      const parsed = stamp === undefined ? Number.NaN : Date.parse(stamp);
      if (!Number.isNaN(parsed)) at = parsed;
      keyed.push({ at, line });
    }
  }
  // Array.prototype.sort is stable: equal times keep their stream order.
  return keyed.sort((a, b) => (a.at === b.at ? 0 : a.at < b.at ? -1 : 1)).slice(-limit).map((k) => k.line);
}

// ---------------------------------------------------------------------------------------------------
// Text

export function renderDiagnosis(d: Diagnosis): string {
  const p = d.probes;
  const holders = d.port.holders.length === 0
    ? 'free (nothing listens)'
    : d.port.holders.map((h) => (h.pid === null ? 'a process of another user' : `pid ${h.pid}${h.command ? ` (${h.command})` : ''}`)).join(', ');
  const pm2 = d.pm2.reachable
    ? `${d.pm2.status ?? 'unknown'}, pid ${d.pm2.pid ?? '-'}, restarts ${d.pm2.restarts ?? '-'}, uptime ${d.pm2.uptimeMs === null ? '-' : formatDuration(d.pm2.uptimeMs)}`
    : 'not reachable (the PM2 daemon is not running or does not answer)';
  const snapshots = d.snapshots.count === 0
    ? 'none yet'
    : `${d.snapshots.count}, newest ${d.snapshots.newest ?? '-'}${d.snapshots.matchesCurrent ? ' (= the current config)' : ' (differs from the current config)'}`;
  const lines = [
    `${d.instance}: ${d.verdict.toUpperCase()}`,
    `  ${d.summary}`,
    '',
    `  probes     ${p.live ? (p.ready ? 'live and ready' : 'live, NOT ready') : 'FAILED'} in ${p.latencyMs} ms: ${p.detail}`,
    `  config     ${d.config.valid === true ? 'valid' : d.config.valid === false ? 'INVALID' : 'not checked'}: ${d.config.detail}`,
    `  port       ${d.port.port}: ${holders}`,
    `  PM2        ${pm2}`,
    `  incident   ${d.incident ? `${d.incident.id} at ${d.incident.rung} (${d.incident.status}): ${ownerCommand(`incident show ${d.incident.id}`)}` : 'none open'}`,
    `  snapshots  ${snapshots}`,
  ];
  if (d.recentExits.length > 0) {
    lines.push('', 'Recent exits, newest first:');
    for (const e of d.recentExits) lines.push(`  ${e.at}  ${e.signal ? e.signal : `code ${e.code ?? '?'}`}  ${e.reason}`);
  }
  lines.push('', d.fix.length > 0 ? 'Suggested fix:' : 'Nothing to fix.');
  for (const step of d.fix) lines.push(`  ${step}`);
  if (d.logTail.length > 0) {
    lines.push('', `Last ${d.logTail.length} log lines (secrets redacted):`);
    for (const line of d.logTail) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}

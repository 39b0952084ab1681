import type { ConfigVerdict } from '../../guard/validate-config.js';
import type { RepairTarget } from './target.js';
import { ownerCommand } from '../../core/command-line.js';

/** The `config validate --json` document. */
export function configValidationReport(target: RepairTarget, verdict: ConfigVerdict) {
  const base = { instance: target.instance.name, configPath: target.instance.configPath };
  if (verdict.valid === true) return { ...base, valid: true as const, via: verdict.via };
  if (verdict.valid === false) return { ...base, valid: false as const, kind: verdict.kind, issues: [...verdict.issues], via: verdict.via };
  return { ...base, valid: 'unknown' as const, via: null, detail: verdict.detail };
}

export type ConfigValidationReport = ReturnType<typeof configValidationReport>;

/** The fix for an invalid config: a restore only when there is a snapshot to restore. */
export function configFix(instance: string, configPath: string, snapshots: number): string {
  return snapshots > 0
    ? `${ownerCommand(`config diff ${instance}`)}, then ${ownerCommand(`config restore ${instance}`)} (or edit the file)`
    : `edit ${configPath} (there is no snapshot to restore yet; lifeguard config validate ${instance} checks it again)`;
}

export function renderConfigValidation(report: ConfigValidationReport, snapshots: number): string {
  if (report.valid === true) return `${report.instance}: ${report.configPath} is valid (checked by ${report.via}).`;
  if (report.valid === 'unknown') return `${report.instance}: ${report.configPath} could not be checked: ${report.detail}`;
  return [`${report.instance}: ${report.configPath} is INVALID (${report.kind}, found by ${report.via}):`, ...report.issues.map((issue) => `  - ${issue}`),
    `Fix: ${configFix(report.instance, report.configPath, snapshots)}.`].join('\n');
}

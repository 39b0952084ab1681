import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import { ownerCommand } from '../core/command-line.js';
import type { LifeguardConfig } from '../config/load.js';
import { planReload, restartFor, type ConfigSection, type EditedConfig, type PendingChange } from '../config/reload.js';
import type { Alert } from '../notify/types.js';

/** How often the config file is looked at: edits are in force within this plus the load (well under 10 s). */
export const RELOAD_POLL_MS = 2_000;

/** What `lifeguard status` shows about the config file in effect. */
export interface ConfigFileStatus {
  readonly file: string;
  /** When an edit was last looked at (applied, found pending or rejected). */
  readonly checkedAt?: number;
  readonly appliedAt?: number;
  readonly applied?: readonly ConfigSection[];
  /** Changed sections that wait for a restart, and the command that applies them. */
  readonly pending: readonly PendingChange[];
  readonly pendingFix?: string;
  /** Why the latest edit was rejected; the last good settings stay in force. */
  readonly error?: string;
}

export interface ConfigReloaderDeps {
  readonly file: string;
  readonly running: () => LifeguardConfig;
  readonly load: () => Promise<LifeguardConfig>;
  /** Puts the effective settings in force: the new config object, providers, probe timers. */
  readonly apply: (effective: LifeguardConfig, applied: readonly ConfigSection[]) => void;
  readonly alert: (alert: Alert) => Promise<unknown>;
  readonly log: Logger;
  readonly host: string;
  readonly now: () => number;
  readonly pollMs?: number;
}

export interface ConfigReloader {
  readonly status: () => ConfigFileStatus;
  /** Looks at the file now (the poll timer calls this); resolves once an edit is applied or rejected. */
  readonly check: () => Promise<void>;
  readonly stop: () => void;
}

/**
 * Watches the lifeguard config in effect by content (a poll: editors that save by rename and network
 * file systems defeat file events) and carries out the reload policy of src/config/reload.ts.
 */
export function startConfigReloader(deps: ConfigReloaderDeps): ConfigReloader {
  let lastText: string | undefined;
  let state: ConfigFileStatus = { file: deps.file, pending: [] };
  let alertedError: string | undefined;
  let queue: Promise<void> = Promise.resolve();

  const look = async () => {
    const text = await readFile(deps.file, 'utf8').catch((error: unknown) => `\0unreadable: ${errorMessage(error)}`);
    if (text === lastText) return;
    const first = lastText === undefined;
    lastText = text;
    const edited: EditedConfig = await deps.load().then((config) => ({ ok: true as const, config }), (error: unknown) => ({ ok: false as const, error: errorMessage(error) }));
    const plan = planReload(deps.running(), edited);
    const at = deps.now();
    if (plan.kind === 'rejected') {
      const error = plan.errors.join('\n');
      state = { ...state, checkedAt: at, error };
      deps.log.error({ file: deps.file, errors: plan.errors }, 'lifeguard config edit rejected; the last good settings stay in force');
      if (error !== alertedError) {
        alertedError = error;
        await deps.alert(rejectedAlert(deps.file, plan.errors, deps.host, at)).catch((err: unknown) => deps.log.error({ err }, 'cannot queue the alert about the config edit'));
      }
      return;
    }
    alertedError = undefined;
    if (plan.applied.length > 0) deps.apply(plan.effective, plan.applied);
    const fix = restartFor(plan.pending);
    state = {
      file: deps.file, checkedAt: at, pending: plan.pending,
      ...(fix ? { pendingFix: fix === 'gateways' ? `${ownerCommand('down')} && ${ownerCommand('up')}` : 'npx pm2 restart lifeguard' } : {}),
      ...(plan.applied.length > 0 ? { applied: plan.applied, appliedAt: at } : state.appliedAt ? { applied: state.applied ?? [], appliedAt: state.appliedAt } : {}),
    };
    if (plan.applied.length > 0) deps.log.info({ file: deps.file, applied: plan.applied }, 'lifeguard config edit applied');
    if (plan.pending.length > 0 && !first) deps.log.warn({ file: deps.file, pending: plan.pending, fix: state.pendingFix }, 'lifeguard config edit waits for a restart');
  };
  // One look at a time, in order: a check asked for while one runs comes after it.
  const check = () => {
    queue = queue.then(look).catch((error: unknown) => deps.log.error({ err: error }, 'config reload failed'));
    return queue;
  };

  const timer = setInterval(() => void check(), deps.pollMs ?? RELOAD_POLL_MS);
  timer.unref();
  void check();
  return { status: () => state, check, stop: () => clearInterval(timer) };
}

/** Says where to look, not what was wrong: a rejected value may be a webhook URL or a token. */
function rejectedAlert(file: string, errors: readonly string[], host: string, at: number): Alert {
  return {
    event: 'config-invalid',
    incidentId: null,
    instance: 'lifeguard',
    severity: 'warning',
    summary: `An edit of lifeguard's own config on ${host} was not applied: it does not load. The last good settings stay in force until it is fixed.`,
    details: { file, problems: String(errors.length) },
    commands: [ownerCommand('check')],
    at: new Date(at).toISOString(),
    idempotencyKey: `lifeguard-config-${at}`,
    host,
  };
}

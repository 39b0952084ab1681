import type { Command } from 'commander';
import { appNameOf } from '../../config/instance.js';
import type { LifeguardConfig } from '../../config/load.js';
import type { InstanceName } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { readTextIfExists } from '../../core/fs.js';
import { withRepairLock } from '../../actions/repair-lock.js';
import { sha256 } from '../../guard/validate-config.js';
import { auditIncident } from '../../incidents/audit.js';
import { diffConfigs } from '../../snapshots/diff.js';
import { restoreConfig } from '../../snapshots/restore.js';
import { latestSnapshot, listSnapshots, readSnapshot, type Snapshot } from '../../snapshots/store.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';
import { configValidationReport, renderConfigValidation } from '../repair/config-report.js';
import { RestartImpossible, restartGateway } from '../repair/restart.js';
import { resolveTarget, validateTarget } from '../repair/target.js';
import { loadCommandContext } from './command-context.js';
import { EXIT, exitCodesHelp, LOCK_BUSY_HELP } from './exit-codes.js';
import { ownerCommand } from '../../core/command-line.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description("inspect and repair a Gateway's config: validate, snapshots, diff, restore");

  config
    .command('validate [instance]')
    .description("check the instance's config (main by default) as its Gateway will at the next start: JSON5 first, then the running Gateway's config.get or the Gateway's own CLI; secrets are never shown")
    .option('--json', 'machine-readable output: { instance, configPath, valid, kind?, issues?, via, detail? }')
    .addHelpText('after', exitCodesHelp({ ok: 'valid', failed: 'invalid, or it could not be checked (valid: "unknown", and the detail says why)', usage: 'unknown instance' }))
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const target = await resolveTarget(instanceArg(name));
      const report = configValidationReport(target, await validateTarget(target));
      if (options.json) printJson(report);
      else stdout(renderConfigValidation(report, (await listSnapshots(target.settings.home, target.instance.name).catch(() => [])).length));
      process.exitCode = report.valid === true ? EXIT.ok : EXIT.failed;
    });

  config
    .command('snapshots [instance]')
    .description('list the last-known-good snapshots of the instance config (main by default), best first (proven, then started fine; newest first within each)')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig({ tolerant: true });
      const { configPath } = await configPathOf(settings, instance);
      const current = await readTextIfExists(configPath);
      const currentHash = current === undefined ? undefined : sha256(current);
      const snapshots = await listSnapshots(settings.home, instance);
      if (options.json) {
        printJson(snapshots.map((s) => ({ ...s, matchesCurrent: s.hash === currentHash })));
        return;
      }
      if (snapshots.length === 0) {
        stdout(`No snapshots of ${instance} yet. lifeguard takes one as soon as the Gateway is healthy on a config that validates.`);
        return;
      }
      stdout(`Snapshots of ${instance} (${configPath}), best first:`);
      for (const s of snapshots) {
        stdout(`  ${s.id}  confirmed ${new Date(s.confirmedAt).toISOString()}  ${s.bytes} bytes  ${s.grade}: ${s.reason}${s.hash === currentHash ? '  (= current config)' : ''}`);
      }
    });

  config
    .command('diff [instance]')
    .description('what changed between a snapshot (the best by default) and the config on disk; secrets are never shown')
    .option('--id <id>', 'compare with this snapshot')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, options: { id?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig({ tolerant: true });
      const { configPath } = await configPathOf(settings, instance);
      const snapshot = await pickSnapshot(settings, instance, options.id);
      const current = await readTextIfExists(configPath);
      const diff = diffConfigs({
        before: { label: `snapshot ${snapshot.id}`, content: snapshot.content },
        after: { label: configPath, content: current ?? '' },
      });
      if (options.json) {
        printJson({ instance, snapshot: snapshot.id, configPath, configExists: current !== undefined, ...diff });
        return;
      }
      stdout(`${instance}: snapshot ${snapshot.id} → ${configPath}${current === undefined ? ' (missing)' : ''}: ${diff.summary}`);
      if (diff.patch) stdout(diff.patch);
    });

  config
    .command('restore [instance]')
    .description('put a snapshot (the best by default) back in place of the config, keeping the current file beside it, then restart the Gateway')
    .option('--id <id>', 'restore this snapshot')
    .option('--no-restart', 'only restore the file')
    .option('--by <name>', 'who restores (for the incident record)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({
      ok: 'restored (or the file already held that snapshot)',
      failed: 'no snapshot to restore, or the restore (or the restart after it) failed',
      usage: 'unknown instance, or a --id that is not one of the snapshots',
      busy: LOCK_BUSY_HELP,
    }))
    .action(async (name: string | undefined, options: { id?: string; restart: boolean; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig({ tolerant: true });
      const by = actor(options.by);
      // Under the repair lock: never while lifeguard's own restore, or another command, changes the Gateway.
      const done = await withRepairLock(settings.home, { timeoutMs: settings.repair.lockTimeoutMs, who: by, what: `config restore ${instance}` }, async () => {
        const { configPath } = await configPathOf(settings, instance);
        const snapshot = await pickSnapshot(settings, instance, options.id);
        const at = Date.now();
        const result = await restoreConfig({ configPath, content: snapshot.content, at });
        const restart = options.restart ? await restartAfterRestore(settings, instance, at) : { outcome: 'not-asked' as const, detail: 'not asked' };
        const text = `lifeguard config restore ${instance} --id ${snapshot.id}${result.keptAs ? `; the replaced file is kept as ${result.keptAs}` : ''}; restart: ${restart.detail}`;
        const incidentId = await auditIncident(settings.home, instance, by, text, at);
        return { configPath, snapshot, result, restart, incidentId };
      });
      const { configPath, snapshot, result, restart, incidentId } = done;
      process.exitCode = restart.outcome === 'failed' ? EXIT.failed : EXIT.ok;
      if (options.json) {
        printJson({ instance, snapshot: snapshot.id, configPath, changed: result.changed, keptAs: result.keptAs ?? null, restart, incident: incidentId ?? null });
        return;
      }
      stdout(result.changed
        ? `${instance}: restored snapshot ${snapshot.id} to ${configPath}.${result.keptAs ? `\nThe replaced file is kept as ${result.keptAs}.` : ''}`
        : `${instance}: ${configPath} already holds snapshot ${snapshot.id}; the file was not touched.`);
      stdout(`Restart: ${restart.detail}. Watch with: ${ownerCommand('status')}`);
    });
}

async function configPathOf(settings: LifeguardConfig, instance: InstanceName): Promise<{ configPath: string }> {
  const { instances } = await loadCommandContext({ settings, snapshotFallback: true });
  return { configPath: instances[instance].configPath };
}

async function pickSnapshot(settings: LifeguardConfig, instance: InstanceName, id: string | undefined): Promise<Snapshot> {
  if (id !== undefined) return readSnapshot(settings.home, instance, id);
  const newest = await latestSnapshot(settings.home, instance);
  if (!newest) throw new UserError(`${instance} has no snapshot yet: there is no last-known-good config to compare with or restore.`, EXIT.failed);
  return newest;
}

/** What became of the restart after a restore: the file is restored by then, so a failure is reported, not thrown. */
interface RestoreRestart {
  readonly outcome: 'restarted' | 'skipped' | 'failed' | 'not-asked';
  readonly detail: string;
}

async function restartAfterRestore(settings: LifeguardConfig, instance: InstanceName, askedAt: number): Promise<RestoreRestart> {
  try {
    // The snapshot validated when it was taken: no second validation, and no wait (`lifeguard status` shows it coming up).
    const report = await restartGateway(await resolveTarget(instance, settings), { validate: false, force: false, wait: false, timeoutMs: 0, askedAt });
    return { outcome: 'restarted', detail: `${appNameOf(instance)} ${report.detail}` };
  } catch (error) {
    if (!(error instanceof RestartImpossible)) throw error;
    const why = error.message.split('\n')[0];
    return error.reason !== 'pm2-refused'
      ? { outcome: 'skipped', detail: `skipped (${why}; start everything with: ${ownerCommand('up')})` }
      : { outcome: 'failed', detail: `FAILED (${why}); restart it with: ${ownerCommand(`restart ${instance}`)}` };
  }
}

import type { Command } from 'commander';
import { appNameOf, plannedPaths } from '../../config/instance.js';
import type { LifeguardConfig } from '../../config/load.js';
import type { InstanceName } from '../../config/schema.js';
import { UserError, errorMessage } from '../../core/errors.js';
import { readTextIfExists } from '../../core/fs.js';
import { connectPm2, isPm2DaemonRunning } from '../../actions/pm2.js';
import { restartApp } from '../../actions/pm2-restart.js';
import { withRepairLock } from '../../actions/repair-lock.js';
import { sha256 } from '../../guard/validate-config.js';
import { auditIncident } from '../../incidents/audit.js';
import { defaultFlavour, resolveGatewayRuntime } from '../../runtime/resolve.js';
import { diffConfigs } from '../../snapshots/diff.js';
import { restoreConfig } from '../../snapshots/restore.js';
import { latestSnapshot, listSnapshots, readSnapshot, type Snapshot } from '../../snapshots/store.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';
import { configValidationReport, exitCodesHelp, renderConfigValidation, resolveTarget, validateTarget } from './repair.js';
import { ownerCommand } from '../../core/command-line.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description("inspect and repair a Gateway's config: validate, snapshots, diff, restore");

  config
    .command('validate [instance]')
    .description("check the instance's config (main by default) as its Gateway will at the next start: JSON5 first, then the running Gateway's config.get or the Gateway's own CLI; secrets are never shown")
    .option('--json', 'machine-readable output: { instance, configPath, valid, kind?, issues?, via, detail? }')
    .addHelpText('after', exitCodesHelp({ ok: 'valid', failed: 'invalid, or it could not be checked (valid: "unknown", and the detail says why)', usage: 'unknown instance' }))
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const target = await resolveTarget(await loadCommandConfig(), instanceArg(name));
      const report = configValidationReport(target, await validateTarget(target));
      if (options.json) printJson(report);
      else stdout(renderConfigValidation(report));
      process.exitCode = report.valid === true ? 0 : 1;
    });

  config
    .command('snapshots [instance]')
    .description('list the last-known-good snapshots of the instance config (main by default), best first (proven, then started fine; newest first within each)')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig();
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
      const settings = await loadCommandConfig();
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
      busy: "busy: another repair (lifeguard's own, or another command) held the repair lock past repair.lockTimeoutMs",
    }))
    .action(async (name: string | undefined, options: { id?: string; restart: boolean; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig();
      const by = actor(options.by);
      // Under the repair lock: never while lifeguard's own restore, or another command, changes the Gateway.
      const done = await withRepairLock(settings.home, { timeoutMs: settings.repair.lockTimeoutMs, who: by, what: `config restore ${instance}` }, async () => {
        const { configPath } = await configPathOf(settings, instance);
        const snapshot = await pickSnapshot(settings, instance, options.id);
        const at = Date.now();
        const result = await restoreConfig({ configPath, content: snapshot.content, at });
        const restarted = options.restart ? await restartThroughPm2(appNameOf(instance)) : 'not asked';
        const text = `lifeguard config restore ${instance} --id ${snapshot.id}${result.keptAs ? `; the replaced file is kept as ${result.keptAs}` : ''}; restart: ${restarted}`;
        const incidentId = await auditIncident(settings.home, instance, by, text, at);
        return { configPath, snapshot, result, restarted, incidentId };
      });
      const { configPath, snapshot, result, restarted, incidentId } = done;
      if (options.json) {
        printJson({ instance, snapshot: snapshot.id, configPath, changed: result.changed, keptAs: result.keptAs ?? null, restart: restarted, incident: incidentId ?? null });
        if (restarted.startsWith('FAILED')) process.exitCode = 1;
        return;
      }
      stdout(result.changed
        ? `${instance}: restored snapshot ${snapshot.id} to ${configPath}.${result.keptAs ? `\nThe replaced file is kept as ${result.keptAs}.` : ''}`
        : `${instance}: ${configPath} already holds snapshot ${snapshot.id}; the file was not touched.`);
      stdout(`Restart: ${restarted}. Watch with: ${ownerCommand('status')}`);
      if (restarted.startsWith('FAILED')) process.exitCode = 1;
    });
}

async function configPathOf(settings: LifeguardConfig, instance: InstanceName): Promise<{ configPath: string }> {
  const runtime = await resolveGatewayRuntime(settings, { env: process.env, provision: false, progress: () => {} }).catch(() => undefined);
  return plannedPaths(settings.instances[instance], runtime?.flavour ?? defaultFlavour(settings), settings.userHome);
}

async function pickSnapshot(settings: LifeguardConfig, instance: InstanceName, id: string | undefined): Promise<Snapshot> {
  if (id !== undefined) return readSnapshot(settings.home, instance, id);
  const newest = await latestSnapshot(settings.home, instance);
  if (!newest) throw new UserError(`${instance} has no snapshot yet: there is no last-known-good config to compare with or restore.`, 1);
  return newest;
}

/** Restarts the app when PM2 runs it; never starts a PM2 daemon just for this. */
async function restartThroughPm2(appName: string): Promise<string> {
  if (!isPm2DaemonRunning()) return `skipped (the PM2 daemon is not running; start everything with: ${ownerCommand('up')})`;
  const pm2 = await connectPm2({ timeoutMs: 10_000 });
  try {
    const app = await pm2.describe(appName);
    if (!app) return `skipped (${appName} is not registered in PM2; start it with: ${ownerCommand('up')})`;
    await restartApp(pm2, appName);
    return `${appName} restarted through PM2`;
  } catch (error) {
    // The file is restored by now: say what happened rather than fail without a trace.
    return `FAILED (${errorMessage(error)}); restart it with: ${ownerCommand(`restart ${appName.replace('gateway-', '')}`)}`;
  } finally {
    pm2.close();
  }
}

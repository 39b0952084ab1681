import type { Command } from 'commander';
import { appNameOf, plannedPaths } from '../../config/instance.js';
import type { LifeguardConfig } from '../../config/load.js';
import type { InstanceName } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { readTextIfExists } from '../../core/fs.js';
import { connectPm2, isPm2DaemonRunning } from '../../actions/pm2.js';
import { sha256 } from '../../guard/validate-config.js';
import { withTimeline } from '../../incidents/record.js';
import { findOpenIncident, updateIncident } from '../../incidents/store.js';
import { defaultFlavour, resolveGatewayRuntime } from '../../runtime/resolve.js';
import { diffConfigs } from '../../snapshots/diff.js';
import { restoreConfig } from '../../snapshots/restore.js';
import { latestSnapshot, listSnapshots, readSnapshot, type Snapshot } from '../../snapshots/store.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description("inspect and repair a Gateway's config: snapshots, diff, restore");

  config
    .command('snapshots [instance]')
    .description('list the last-known-good snapshots of the instance config (main by default), newest first')
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
        stdout(`No snapshots of ${instance} yet. lifeguard takes one once the Gateway has been healthy for a while on a config that validates.`);
        return;
      }
      stdout(`Snapshots of ${instance} (${configPath}), newest first:`);
      for (const s of snapshots) {
        stdout(`  ${s.id}  confirmed ${new Date(s.confirmedAt).toISOString()}  ${s.bytes} bytes  ${s.reason}${s.hash === currentHash ? '  (= current config)' : ''}`);
      }
    });

  config
    .command('diff [instance]')
    .description('what changed between a snapshot (the newest by default) and the config on disk; secrets are never shown')
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
    .description('put a snapshot (the newest by default) back in place of the config, keeping the current file beside it, then restart the Gateway')
    .option('--id <id>', 'restore this snapshot')
    .option('--no-restart', 'only restore the file')
    .option('--by <name>', 'who restores (for the incident record)')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, options: { id?: string; restart: boolean; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const settings = await loadCommandConfig();
      const { configPath } = await configPathOf(settings, instance);
      const snapshot = await pickSnapshot(settings, instance, options.id);
      const at = Date.now();
      const result = await restoreConfig({ configPath, content: snapshot.content, at });
      const restarted = options.restart ? await restartThroughPm2(appNameOf(instance)) : 'not asked';
      const by = actor(options.by);
      const open = await findOpenIncident(settings.home, instance);
      if (open) {
        const text = `config restored from snapshot ${snapshot.id} by ${by}${result.keptAs ? `; the replaced file is kept as ${result.keptAs}` : ''}; restart: ${restarted}`;
        await updateIncident(settings.home, open.id, (r) => withTimeline(r, [{ at, kind: 'action', text }]));
      }
      if (options.json) {
        printJson({ instance, snapshot: snapshot.id, configPath, changed: result.changed, keptAs: result.keptAs ?? null, restart: restarted, incident: open?.id ?? null });
        return;
      }
      stdout(result.changed
        ? `${instance}: restored snapshot ${snapshot.id} to ${configPath}.${result.keptAs ? `\nThe replaced file is kept as ${result.keptAs}.` : ''}`
        : `${instance}: ${configPath} already holds snapshot ${snapshot.id}; the file was not touched.`);
      stdout(`Restart: ${restarted}. Watch with: lifeguard status`);
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
  if (!isPm2DaemonRunning()) return 'skipped (the PM2 daemon is not running; start everything with: lifeguard up)';
  const pm2 = await connectPm2({ timeoutMs: 10_000 });
  try {
    const app = await pm2.describe(appName);
    if (!app) return `skipped (${appName} is not registered in PM2; start it with: lifeguard up)`;
    await pm2.restart(appName);
    return `${appName} restarted through PM2`;
  } finally {
    pm2.close();
  }
}

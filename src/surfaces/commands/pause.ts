import type { Command } from 'commander';
import { activePause, parsePauseLength, readPauses, setPause } from '../../incidents/pauses.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';
import { ownerCommand } from '../../core/command-line.js';

export function registerPauseCommands(program: Command): void {
  program
    .command('pause <instance>')
    .description('planned work: no alerts and no automated action on the instance for a while (PM2 still restarts crashes)')
    .requiredOption('--for <duration>', 'how long, e.g. 10m, 2h, 1h30m (1m to 7d)')
    .option('--by <name>', 'who pauses (default: the user running the command)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, options: { for: string; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const ms = parsePauseLength(options.for);
      const config = await loadCommandConfig();
      const at = Date.now();
      const pause = { until: at + ms, by: actor(options.by), at };
      await setPause(config.home, instance, pause);
      if (options.json) printJson({ instance, pausedUntil: new Date(pause.until).toISOString(), by: pause.by });
      else stdout(`${instance}: alerts and automated actions paused until ${new Date(pause.until).toISOString()} (lift it early with: ${ownerCommand(`resume ${instance}`)}).`);
    });

  program
    .command('resume <instance>')
    .description('end a pause now')
    .option('--json', 'machine-readable output')
    .action(async (name: string, options: { json?: boolean }) => {
      const instance = instanceArg(name);
      const config = await loadCommandConfig();
      const at = Date.now();
      const was = activePause(await readPauses(config.home), instance, at);
      await setPause(config.home, instance, undefined);
      if (options.json) printJson({ instance, wasPaused: was !== undefined });
      else stdout(was ? `${instance}: alerts and automated actions resumed.` : `${instance} was not paused; nothing changed.`);
    });
}

import type { Command } from 'commander';
import type { ResolvedInstance } from '../../config/instance.js';
import { channelFactsOf, readGatewayConfigObject, rescueChannelWarnings } from '../../config/gateway-channels.js';
import { INSTANCE_NAMES, type Flavour } from '../../config/schema.js';
import { pluginStatus } from '../../handoff/plugin.js';
import { formatProblems } from '../../isolation/rules.js';
import { checkIsolation } from '../../launch/prepare.js';
import { resolveProviders } from '../../notify/registry.js';
import { noAlertsWarning } from '../../launch/what-next.js';
import { ownerCommand } from '../../core/command-line.js';
import { EXIT } from './exit-codes.js';
import { loadCommandContext } from './command-context.js';
import { printJson, stderr, stdout } from './output.js';

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('the pre-start check: the two Gateways isolated (paths, ports, pinned endpoints) and reachable by the probes (token)')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const { settings: config, flavour, instances } = await loadCommandContext();
      const problems = await checkIsolation(instances);
      // A broken alert entry does not stop anything (the other providers still work), but it is named here.
      const notify = resolveProviders(config.notify);
      const warnings = notify.problems.map((problem) => `alert provider skipped: ${problem}`);
      if (notify.providers.length === 0) warnings.push(noAlertsWarning(config.source));
      const plugin = await pluginStatus(instances.rescue);
      if (plugin.state !== 'current') warnings.push(`/lifeguard chat plugin ${plugin.state}: ${plugin.detail} (${ownerCommand('up')} installs it)`);
      warnings.push(...await rescueBotWarnings(instances, flavour, config.chat.ownerIds));
      if (options.json) {
        printJson({ ok: problems.length === 0, flavour, problems, warnings, providers: notify.providers.map((p) => ({ name: p.name, type: p.type })), instances: INSTANCE_NAMES.map((n) => publicInstance(instances[n])) });
      } else if (problems.length === 0) {
        stdout(`Pre-start check OK (${flavour}):\n${INSTANCE_NAMES.map((n) => describeInstance(instances[n])).join('\n')}`);
      } else {
        stdout(formatProblems(problems));
      }
      // Warnings go to stderr: stdout stays the check's answer, for people and for scripts.
      if (!options.json) for (const warning of warnings) stderr(`Warning: ${warning}`);
      process.exitCode = problems.length === 0 ? EXIT.ok : EXIT.failed;
    });
}

function publicInstance(i: ResolvedInstance) {
  return { name: i.name, profile: i.profile, port: i.port, configPath: i.configPath, stateDir: i.stateDir, workspace: i.workspace, logFile: i.logFile };
}

/** The rescue bot's channel, own bot and owner, from both Gateway configs; nothing to say before they exist. */
async function rescueBotWarnings(instances: Readonly<Record<'main' | 'rescue', ResolvedInstance>>, flavour: Flavour, chatOwnerIds: readonly string[]): Promise<string[]> {
  const [rescueConfig, mainConfig] = await Promise.all([readGatewayConfigObject(instances.rescue.configPath), readGatewayConfigObject(instances.main.configPath)]);
  if (!rescueConfig) return [];
  const rescue = await channelFactsOf(rescueConfig, instances.rescue.extraEnv);
  const main = mainConfig ? await channelFactsOf(mainConfig, instances.main.extraEnv) : { channels: [], telegramTokens: [], owners: [] };
  return rescueChannelWarnings({ ...rescue, configPath: instances.rescue.configPath }, main, flavour, chatOwnerIds);
}

function describeInstance(i: ResolvedInstance): string {
  return `  ${i.name}: port ${i.port} (+2, +3, +4, +11..+110), config ${i.configPath}, state ${i.stateDir}, workspace ${i.workspace}, log ${i.logFile}`;
}

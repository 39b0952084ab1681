import type { Command } from 'commander';
import { resolveInstances } from '../../config/resolve-instances.js';
import { gatewayAccessOf } from '../../launch/gateway-access.js';
import { describe as describeFailure, sendAlert } from '../../notify/dispatcher.js';
import { resolveProviders } from '../../notify/registry.js';
import type { Alert, GatewayAccess } from '../../notify/types.js';
import { resolveGatewayRuntime } from '../../runtime/resolve.js';
import { host, loadCommandConfig, printJson, stdout } from './context.js';
import { ownerCommand } from '../../core/command-line.js';

interface ProviderResult {
  readonly provider: string;
  readonly type: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export function registerNotifyCommands(program: Command): void {
  const notify = program.command('notify').description('alert providers');
  notify
    .command('test')
    .description('send a test alert through every configured provider and report each result')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const config = await loadCommandConfig();
      const { providers, problems } = resolveProviders(config.notify);
      const rescueGateway = await rescueAccess(config).catch(() => undefined);
      const at = new Date();
      const alert: Alert = {
        event: 'test',
        incidentId: null,
        instance: null,
        severity: 'info',
        summary: `lifeguard test alert from ${host}: if you can read this, this provider works`,
        details: { host, sent: at.toISOString() },
        commands: [ownerCommand('status')],
        at: at.toISOString(),
        idempotencyKey: `test-${at.getTime()}`,
        host,
      };
      const results = await Promise.all(providers.map(async (provider): Promise<ProviderResult> => {
        const started = performance.now();
        try {
          await sendAlert(provider, alert, { timeoutMs: config.alerts.attemptTimeoutMs, env: process.env, rescueGateway });
          return { provider: provider.name, type: provider.type, ok: true, ms: Math.round(performance.now() - started) };
        } catch (error) {
          return { provider: provider.name, type: provider.type, ok: false, ms: Math.round(performance.now() - started), error: describeFailure(error, provider) };
        }
      }));
      const ok = problems.length === 0 && results.every((r) => r.ok) && results.length > 0;
      process.exitCode = ok ? 0 : 1;
      if (options.json) {
        printJson({ ok, results, problems });
        return;
      }
      if (providers.length === 0 && problems.length === 0) {
        stdout('No providers configured: add a `notify` list to lifeguard.json5 (see docs/notifications.md).');
        return;
      }
      for (const r of results) stdout(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.provider} (${r.type}) in ${r.ms} ms${r.error ? `: ${r.error}` : ''}`);
      for (const problem of problems) stdout(`SKIPPED ${problem}`);
    });
}

async function rescueAccess(config: Awaited<ReturnType<typeof loadCommandConfig>>): Promise<GatewayAccess | undefined> {
  const runtime = await resolveGatewayRuntime(config, { env: process.env, provision: false, progress: () => {} });
  const instances = await resolveInstances(config, runtime.flavour);
  return gatewayAccessOf(instances.rescue, { runtime, userHome: config.userHome, lifeguardHome: config.home });
}


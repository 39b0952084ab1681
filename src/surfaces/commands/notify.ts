import type { Command } from 'commander';
import type { LifeguardConfig } from '../../config/load.js';
import { gatewayAccessOf } from '../../launch/gateway-access.js';
import { describe as describeFailure, sendAlert } from '../../notify/dispatcher.js';
import { resolveProviders } from '../../notify/registry.js';
import type { Alert, GatewayAccess } from '../../notify/types.js';
import { loadCommandContext } from './command-context.js';
import { host, loadCommandConfig, printJson, stdout } from './context.js';
import { EXIT } from './exit-codes.js';
import { ownerCommand } from '../../core/command-line.js';

interface ProviderResult {
  readonly provider: string;
  readonly type: string;
  readonly ok: boolean;
  /** Which way this provider's alerts leave, where it has more than one (the gateway provider). */
  readonly route?: string;
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
        const route = await provider.definition.route?.(provider.options, { ...(rescueGateway ? { rescueGateway } : {}) }).catch(() => undefined);
        const started = performance.now();
        const shown = { provider: provider.name, type: provider.type, ...(route ? { route } : {}) };
        try {
          await sendAlert(provider, alert, { timeoutMs: config.alerts.attemptTimeoutMs, env: process.env, rescueGateway });
          return { ...shown, ok: true, ms: Math.round(performance.now() - started) };
        } catch (error) {
          return { ...shown, ok: false, ms: Math.round(performance.now() - started), error: describeFailure(error, provider) };
        }
      }));
      const ok = problems.length === 0 && results.every((r) => r.ok) && results.length > 0;
      process.exitCode = ok ? EXIT.ok : EXIT.failed;
      if (options.json) {
        printJson({ ok, results, problems });
        return;
      }
      if (providers.length === 0 && problems.length === 0) {
        stdout('No providers configured: add a `notify` list to lifeguard.json5 (see docs/notifications.md).');
        return;
      }
      for (const r of results) {
        stdout(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.provider} (${r.type}${r.route ? ` via ${r.route}` : ''}) in ${r.ms} ms${r.error ? `: ${r.error}` : ''}`);
      }
      for (const problem of problems) stdout(`SKIPPED ${problem}`);
    });
}

async function rescueAccess(config: LifeguardConfig): Promise<GatewayAccess | undefined> {
  const { runtime, instances } = await loadCommandContext({ settings: config });
  return runtime ? gatewayAccessOf(instances.rescue, { runtime, userHome: config.userHome, lifeguardHome: config.home }) : undefined;
}


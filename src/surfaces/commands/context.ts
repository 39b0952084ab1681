import { hostname } from 'node:os';
import { loadConfig, type LifeguardConfig } from '../../config/load.js';
import { INSTANCE_NAMES, type InstanceName } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { queueAlert } from '../../notify/dispatcher.js';
import { Outbox } from '../../notify/outbox.js';
import { resolveProviders } from '../../notify/registry.js';
import type { Alert } from '../../notify/types.js';

export const stdout = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const stderr = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export function printJson(value: unknown): void {
  stdout(JSON.stringify(value, null, 2));
}

export function loadCommandConfig(): Promise<LifeguardConfig> {
  return loadConfig({ env: process.env, cwd: process.cwd() });
}

export function instanceArg(value: string | undefined): InstanceName {
  const name = value ?? 'main';
  if (!(INSTANCE_NAMES as readonly string[]).includes(name)) throw new UserError(`unknown instance "${name}"; use main or rescue`, 2);
  return name as InstanceName;
}

/** Who ran a command, for the audit trail in the incident. */
export function actor(by: string | undefined): string {
  return by ?? `${process.env.USER ?? process.env.LOGNAME ?? 'someone'} (cli)`;
}

/**
 * Queues alerts a command produced (a resolve) in the outbox; the supervisor sends them within seconds,
 * or at its next start when it is not running.
 */
export async function queueFromCommand(config: LifeguardConfig, alerts: readonly Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  const { providers } = resolveProviders(config.notify);
  const outbox = new Outbox(config.home);
  for (const alert of alerts) await queueAlert(outbox, providers, alert, Date.now());
}

export const host = hostname();

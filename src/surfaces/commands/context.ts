import { hostname } from 'node:os';
import { loadConfig, type LifeguardConfig } from '../../config/load.js';
import { INSTANCE_NAMES, type InstanceName } from '../../config/schema.js';
import { UserError } from '../../core/errors.js';
import { queueAlert } from '../../notify/dispatcher.js';
import { Outbox } from '../../notify/outbox.js';
import { resolveProviders } from '../../notify/registry.js';
import type { Alert } from '../../notify/types.js';
import { redactStrings, redactText } from '../../secrets/redact.js';
import { trackSecrets } from '../../secrets/sources.js';

/** What a command prints goes through the one redactor: Gateway output, records and configs can hold secrets. */
export const stdout = (text: string) => process.stdout.write(lineOf(redactText(text)));
export const stderr = (text: string) => process.stderr.write(lineOf(redactText(text)));

function lineOf(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function printJson(value: unknown): void {
  stdout(JSON.stringify(redactStrings(value), null, 2));
}

/** The settings, with the secrets of every config they name known to the redactor. */
export async function loadCommandConfig(): Promise<LifeguardConfig> {
  const config = await loadConfig({ env: process.env, cwd: process.cwd() });
  trackSecrets(config);
  return config;
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

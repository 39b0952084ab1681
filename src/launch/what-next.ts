import { ownerCommand } from '../core/command-line.js';

export interface WhatNextFacts {
  /** The lifeguard config file in effect. */
  readonly configFile: string | undefined;
  /** Names of the alert destinations that work; empty: nobody is told. */
  readonly providers: readonly string[];
  /** notify entries that were skipped, each with its reason. */
  readonly providerProblems: readonly string[];
}

/** The one line `up`, `status` and `check` print when no alert destination works. */
export function noAlertsWarning(configFile: string | undefined): string {
  return `no alert destination is configured: an outage is recorded, but nobody is told. Add a notify entry to ${configFile ?? 'lifeguard.json5'} (docs/notifications.md), then: ${ownerCommand('notify test')}`;
}

/** The end of `lifeguard up`: where things are and the first steps an owner takes. Pure. */
export function renderWhatNext(facts: WhatNextFacts): string {
  const alerts = facts.providers.length > 0
    ? `${facts.providers.join(', ')}; send a test: ${ownerCommand('notify test')}`
    : `NONE: ${noAlertsWarning(facts.configFile)}`;
  return [
    'What next (run these from this folder):',
    `  config      ${facts.configFile ?? 'none'} (edits apply within seconds, no restart; shown by ${ownerCommand('status')})`,
    `  alerts      ${alerts}`,
    ...facts.providerProblems.map((problem) => `              skipped: ${problem}`),
    '  rescue bot  give it its own Telegram bot token and talk to it: docs/getting-started.md#connect-the-rescue-bot-to-telegram',
    `  watch       ${ownerCommand('status')}`,
  ].join('\n');
}

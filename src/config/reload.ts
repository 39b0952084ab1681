import { isDeepStrictEqual } from 'node:util';
import { resolveProviders } from '../notify/registry.js';
import type { LifeguardConfig } from './load.js';
import type { LifeguardConfigFile } from './schema.js';

export type ConfigSection = keyof LifeguardConfigFile;

/** What must be restarted before a changed section takes effect. */
export type RestartNeeded = 'gateways' | 'lifeguard';

/**
 * How each section of a running supervisor's config takes an edit. `live` ones are applied within
 * seconds; the others wait, reported as pending, until what reads them at start-up is restarted.
 */
export const SECTION_POLICY: Readonly<Record<ConfigSection, 'live' | RestartNeeded>> = {
  notify: 'live',
  probes: 'live',
  restarts: 'live',
  repair: 'live',
  chat: 'live',
  // Ports, profiles, paths and the Gateway binary are what the Gateway apps were started with.
  gateway: 'gateways',
  instances: 'gateways',
  // Read once by the supervisor's incident desk, timers, cron jobs, endpoints and logger.
  alerts: 'lifeguard',
  guard: 'lifeguard',
  snapshots: 'lifeguard',
  escalation: 'lifeguard',
  jobs: 'lifeguard',
  housekeeping: 'lifeguard',
  handoff: 'lifeguard',
  http: 'lifeguard',
  heartbeat: 'lifeguard',
  logLevel: 'lifeguard',
};

export interface PendingChange {
  readonly section: ConfigSection;
  readonly needs: RestartNeeded;
}

export type ReloadPlan =
  /** The edit cannot be used at all: nothing of it is applied, the running settings stay. */
  | { readonly kind: 'rejected'; readonly errors: readonly string[] }
  | {
    readonly kind: 'accepted';
    /** The settings to run with: the edited ones where they apply live, the running ones elsewhere. */
    readonly effective: LifeguardConfig;
    /** Sections that changed and are applied now. */
    readonly applied: readonly ConfigSection[];
    /** Sections that changed but wait for a restart; until then the running values stay in force. */
    readonly pending: readonly PendingChange[];
  };

export type EditedConfig = { readonly ok: true; readonly config: LifeguardConfig } | { readonly ok: false; readonly error: string };

/**
 * The reload policy: an edit is taken whole or not at all. A file that does not load, or a `notify`
 * entry that cannot be used, rejects the edit (the owner is told, the last good settings stay);
 * otherwise the live sections are applied and the rest is reported as pending.
 */
export function planReload(running: LifeguardConfig, edited: EditedConfig): ReloadPlan {
  if (!edited.ok) return { kind: 'rejected', errors: [edited.error] };
  const next = edited.config;
  const changed = (Object.keys(SECTION_POLICY) as ConfigSection[]).filter((section) => !isDeepStrictEqual(running[section], next[section]));
  if (changed.includes('notify')) {
    const { problems } = resolveProviders(next.notify);
    if (problems.length > 0) return { kind: 'rejected', errors: problems };
  }
  const applied = changed.filter((section) => SECTION_POLICY[section] === 'live');
  const pending = changed.flatMap((section) => {
    const needs = SECTION_POLICY[section];
    return needs === 'live' ? [] : [{ section, needs }];
  });
  const effective = { ...running, ...Object.fromEntries(applied.map((section) => [section, next[section]])) } as LifeguardConfig;
  return { kind: 'accepted', effective, applied, pending };
}

/** The command that makes pending changes take effect, as the owner types it. */
export function restartFor(pending: readonly PendingChange[]): RestartNeeded | undefined {
  if (pending.some((change) => change.needs === 'gateways')) return 'gateways';
  return pending.length > 0 ? 'lifeguard' : undefined;
}

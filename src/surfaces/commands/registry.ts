import type { Command } from 'commander';

export type Register = (program: Command) => void;
type Loader = () => Promise<Register>;

// Which module declares which top-level command. Each is imported only when its command runs, because
// importing everything up front (PM2's API, the probes, zod schemas) cost more than the commands themselves.
const lifecycle: Loader = async () => (await import('./lifecycle.js')).registerLifecycleCommands;
const repair: Loader = async () => (await import('./repair.js')).registerRepairCommands;
const incidents: Loader = async () => (await import('./incidents.js')).registerIncidentCommands;
const pauses: Loader = async () => (await import('./pause.js')).registerPauseCommands;

const MODULES: Readonly<Record<string, Loader>> = {
  up: lifecycle,
  down: lifecycle,
  ecosystem: lifecycle,
  supervise: lifecycle,
  runtime: lifecycle,
  run: lifecycle,
  service: lifecycle,
  uninstall: lifecycle,
  check: async () => (await import('./check.js')).registerCheckCommand,
  status: async () => (await import('./status.js')).registerStatusCommand,
  incidents,
  incident: incidents,
  handoff: async () => (await import('./handoff.js')).registerHandoffCommand,
  pause: pauses,
  resume: pauses,
  config: async () => (await import('./config.js')).registerConfigCommands,
  notify: async () => (await import('./notify.js')).registerNotifyCommands,
  diagnose: repair,
  restart: repair,
  logs: repair,
  chat: async () => (await import('./chat.js')).registerChatCommand,
};

/**
 * The modules to load for these arguments: the named command's alone; none for `--version`; all of them
 * when there is no known command (help, a typo that deserves a suggestion), in a fixed order so that help
 * lists them the same way every time.
 */
export function commandModulesFor(args: readonly string[]): Loader[] {
  const name = args.find((arg) => !arg.startsWith('-'));
  const named = name === undefined ? undefined : MODULES[name];
  if (named) return [named];
  if (name === undefined && args.some((arg) => arg === '-v' || arg === '--version')) return [];
  return [...new Set(Object.values(MODULES))];
}

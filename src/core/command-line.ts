/**
 * How lifeguard prints its own commands for the owner: the form that runs as printed from a shell in the
 * lifeguard folder, with nothing added to PATH (npm finds the package's own `lifeguard` bin there).
 * The rescue agent, which is not in that folder, gets the absolute form in $LIFEGUARD_CLI instead.
 */
export const OWNER_CLI = 'npx lifeguard';

/** `ownerCommand('incident show main-20261125-210347Z')` → `npx lifeguard incident show main-20261125-210347Z`. */
export function ownerCommand(args: string): string {
  return `${OWNER_CLI} ${args}`;
}

/**
 * The arguments of a command `ownerCommand` rendered (what follows `npx lifeguard`, without a trailing
 * `# comment`), or undefined for anything else, such as `edit <file>` or `kill <pid>`.
 */
export function ownerCommandArgs(line: string): string[] | undefined {
  const prefix = `${OWNER_CLI} `;
  if (!line.startsWith(prefix)) return undefined;
  const [args = ''] = line.slice(prefix.length).split(/\s+#/, 1);
  return args.trim().split(/\s+/).filter(Boolean);
}

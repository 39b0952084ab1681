// The exit codes of every command, in one table; each command's help lists the ones it can return.

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, busy: 4, pm2: 5, internal: 70 } as const;

export type ExitName = Exclude<keyof typeof EXIT, 'internal'>;

/** The "Exit codes:" block of a command's help: only the codes that command can return. */
export function exitCodesHelp(codes: Partial<Record<ExitName, string>>): string {
  const rows = (Object.keys(EXIT) as ExitName[]).filter((key) => codes[key]).map((key) => `  ${EXIT[key]}  ${codes[key]}`);
  return `\nExit codes:\n${rows.join('\n')}\n`;
}

export const LOCK_BUSY_HELP = "busy: another repair (lifeguard's own, or another command) held the repair lock past repair.lockTimeoutMs";

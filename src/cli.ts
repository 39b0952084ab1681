#!/usr/bin/env node
import { Command } from 'commander';
import { UserError, errorMessage } from './core/errors.js';
import { EXIT } from './surfaces/commands/exit-codes.js';
import { commandModulesFor } from './surfaces/commands/registry.js';
import { LIFEGUARD_VERSION } from './version.js';

const program = new Command()
  .name('lifeguard')
  .description('Runs a main and a rescue OpenClaw/Clawdbot Gateway under PM2 and watches the main one.')
  .version(LIFEGUARD_VERSION, '-v, --version', 'print the version')
  .showHelpAfterError()
  // Usage errors (unknown option, missing argument) exit 2 for every command, as the help of each says.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));

async function main(): Promise<void> {
  // Only the module of the command asked for is imported: `lifeguard status` never loads PM2's API or the Gateway probes.
  for (const load of commandModulesFor(process.argv.slice(2))) (await load())(program);
  await program.parseAsync(process.argv);
}

main().catch((error: unknown) => {
  if (error instanceof UserError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`lifeguard: ${errorMessage(error)}\n`);
  process.exit(EXIT.internal);
});

#!/usr/bin/env node
import { LIFEGUARD_VERSION } from './version.js';

const args = process.argv.slice(2);
// `--version` alone answers before anything else is loaded, commander included.
if (args.length === 1 && (args[0] === '-v' || args[0] === '--version')) process.stdout.write(`${LIFEGUARD_VERSION}\n`);
else await runCommand();

async function runCommand(): Promise<void> {
  const [{ Command }, { UserError, errorMessage }, { EXIT }, { commandModulesFor }] = await Promise.all([
    import('commander'), import('./core/errors.js'), import('./surfaces/commands/exit-codes.js'), import('./surfaces/commands/registry.js'),
  ]);
  const program = new Command()
    .name('lifeguard')
    .description('Runs a main and a rescue OpenClaw/Clawdbot Gateway under PM2 and watches the main one.')
    .version(LIFEGUARD_VERSION, '-v, --version', 'print the version')
    .showHelpAfterError()
    // Usage errors (unknown option, missing argument) exit 2 for every command, as the help of each says.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage))
    .hook('preAction', async () => {
      // Edits to a ./lifeguard.json5 that is not the file in effect would change nothing: say so.
      const { strayConfigWarning } = await import('./config/locate.js');
      const stray = strayConfigWarning(process.env, process.cwd());
      if (stray) process.stderr.write(`Warning: ${stray}\n`);
    });
  try {
    // Only the module of the command asked for is imported: `lifeguard status` never loads PM2's API or the Gateway probes.
    for (const load of commandModulesFor(args)) (await load())(program);
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof UserError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`lifeguard: ${errorMessage(error)}\n`);
    process.exit(EXIT.internal);
  }
}

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
    .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));
  try {
    // Only the module of the command asked for is imported: `lifeguard status` never loads PM2's API or the Gateway probes.
    for (const load of commandModulesFor(args)) (await load())(program);
    await program.parseAsync(process.argv);
  } catch (error) {
    // An error can quote a config or a Gateway's output: it leaves through the one redactor too.
    const { stderr } = await import('./surfaces/commands/output.js');
    if (error instanceof UserError) {
      stderr(error.message);
      process.exit(error.exitCode);
    }
    stderr(`lifeguard: ${errorMessage(error)}`);
    process.exit(EXIT.internal);
  }
}

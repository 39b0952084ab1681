// Preload for `node --import`: the real lifeguard CLI parses its arguments (commands, options, their
// values) and, instead of running the chosen command, prints its name and exits 0. A usage error still
// exits 2, so a test can ask whether a printed command line is one the CLI accepts.
import { Command } from 'commander';

const parseAsync = Command.prototype.parseAsync;
Command.prototype.parseAsync = function (...args) {
  this.hook('preAction', (_program, command) => {
    process.stdout.write(`parsed: ${command.name()}\n`);
    process.exit(0);
  });
  return parseAsync.apply(this, args);
};

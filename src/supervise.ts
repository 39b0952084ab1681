#!/usr/bin/env node
// The supervisor's own entry point, so the long-running process loads nothing the CLI commands need.
import { UserError, errorMessage } from './core/errors.js';
import { runSupervisor } from './daemon/supervisor.js';
import { redactText } from './secrets/redact.js';

runSupervisor(process.env, process.cwd()).catch((error: unknown) => {
  process.stderr.write(`${redactText(error instanceof UserError ? error.message : `lifeguard supervisor: ${errorMessage(error)}`)}\n`);
  process.exit(error instanceof UserError ? error.exitCode : 70);
});

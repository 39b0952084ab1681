import type { Command } from 'commander';
import { withRepairLock } from '../../actions/repair-lock.js';
import { parseDuration } from '../../core/duration.js';
import { UserError } from '../../core/errors.js';
import { auditIncident } from '../../incidents/audit.js';
import { renderDiagnosis } from '../diagnose.js';
import { gatherDiagnosis } from '../repair/diagnosis.js';
import { MAX_LOG_LINES, parseLineCount, readLogTail } from '../repair/log-tail.js';
import { renderRestart, restartExitCode, restartGateway } from '../repair/restart.js';
import { resolveTarget } from '../repair/target.js';
import { EXIT, exitCodesHelp, LOCK_BUSY_HELP } from './exit-codes.js';
import { actor, instanceArg, loadCommandConfig, printJson, stdout } from './context.js';

/** How long `restart` waits for health: 5s to 1h, in the one duration grammar. */
export function parseWaitTimeout(text: string): number {
  return parseDuration(text, { what: '--timeout', minMs: 5_000, maxMs: 3_600_000 });
}

export function registerRepairCommands(program: Command): void {
  program
    .command('diagnose [instance]')
    .description('run every check now (probes, config validation, port, PM2, recent exits, log lines, incident, snapshots) and say what is wrong and how to fix it; works while the supervisor is down')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({ ok: 'healthy', failed: 'any other verdict (degraded, down, config-invalid, port-conflict, not-running, unknown)', usage: 'unknown instance or bad usage' }))
    .action(async (name: string | undefined, options: { json?: boolean }) => {
      const report = await gatherDiagnosis(await resolveTarget(instanceArg(name)));
      if (options.json) printJson(report);
      else stdout(renderDiagnosis(report));
      process.exitCode = report.verdict === 'healthy' ? EXIT.ok : EXIT.failed;
    });

  program
    .command('restart <instance>')
    .description("restart a Gateway through PM2 (start it if stopped), after checking that its config is valid, then wait until it answers; serialized with lifeguard's own repairs; works while the supervisor is down")
    .option('--force', 'restart even into a config that does not validate')
    .option('--no-wait', 'do not wait for the Gateway to answer')
    .option('--timeout <duration>', 'how long to wait for health, 5s to 1h, e.g. 180s, 3m or 1h', '180s')
    .option('--by <name>', 'who restarts (for the incident record; default: the user running the command)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({
      ok: 'restarted and healthy (with --no-wait: restarted)',
      failed: 'not healthy within --timeout, or not registered in PM2',
      usage: 'unknown instance or a bad option value',
      refused: 'refused: the config is invalid (fix it, or use --force)',
      busy: LOCK_BUSY_HELP,
      pm2: 'PM2 not reachable',
    }))
    .action(async (name: string, options: { force?: boolean; wait: boolean; timeout: string; by?: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const timeoutMs = parseWaitTimeout(options.timeout);
      const settings = await loadCommandConfig({ tolerant: true });
      const who = actor(options.by);
      const askedAt = Date.now();
      const audit = (text: string) => auditIncident(settings.home, instance, who, `lifeguard restart ${instance}${options.force ? ' --force' : ''}: ${text}`);
      const report = await withRepairLock(settings.home, { timeoutMs: settings.repair.lockTimeoutMs, who, what: `restart ${instance}`, expectedMs: timeoutMs + 60_000 }, async () =>
        restartGateway(await resolveTarget(instance, settings), { validate: true, force: options.force === true, wait: options.wait, timeoutMs, askedAt }))
        .catch(async (error: unknown) => {
          // A restart that got as far as trying belongs in the incident's story; one that never got the lock did nothing.
          if (error instanceof UserError && error.exitCode !== EXIT.busy) await audit(`failed: ${error.message.split('\n')[0]}`);
          throw error;
        });
      await audit(report.detail);
      if (options.json) printJson(report);
      else stdout(renderRestart(report));
      process.exitCode = restartExitCode(report);
    });

  program
    .command('logs <instance>')
    .description("the Gateway's recent output (stdout and stderr from its PM2 log files, in time order), secrets masked")
    .option('--lines <n>', `how many lines, 1 to ${MAX_LOG_LINES}`, '50')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({ ok: 'shown (also when there are no log files yet)', usage: 'unknown instance or a bad --lines' }))
    .action(async (name: string, options: { lines: string; json?: boolean }) => {
      const instance = instanceArg(name);
      const count = parseLineCount(options.lines);
      const tail = await readLogTail(await resolveTarget(instance), count);
      if (options.json) {
        printJson({ instance, files: tail.files, lines: tail.lines });
        return;
      }
      const missing = tail.files.filter((f) => !f.exists).map((f) => f.path);
      stdout(`${instance}: last ${tail.lines.length} lines of ${tail.files.filter((f) => f.exists).map((f) => f.path).join(' and ') || '(no log files yet)'}${missing.length > 0 && missing.length < tail.files.length ? ` (${missing.join(', ')} missing)` : ''}`);
      for (const line of tail.lines) stdout(line);
    });
}

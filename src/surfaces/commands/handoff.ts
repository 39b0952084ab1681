import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { connectPm2, isPm2DaemonRunning } from '../../actions/pm2.js';
import type { ResolvedInstance } from '../../config/instance.js';
import { UserError } from '../../core/errors.js';
import { probeConfigValidity, summarizeVerdict } from '../../guard/validate-config.js';
import { handOff } from '../../handoff/handoff.js';
import { handOverByOperator } from '../../incidents/engine.js';
import { grantLease } from '../../incidents/ladder.js';
import { applyStep } from '../../incidents/record.js';
import { requireIncident, updateIncident } from '../../incidents/store.js';
import { gatewayEnvOf } from '../../pm2/apps.js';
import { runProbeCycle } from '../../probes/cycle.js';
import { GatewaySession } from '../../probes/gateway-ws.js';
import { diffAgainstNewestSnapshot } from '../../snapshots/compare.js';
import { LIFEGUARD_VERSION } from '../../version.js';
import { loadCommandContext } from './command-context.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import { actor, host, loadCommandConfig, printJson, queueFromCommand, stdout } from './context.js';
import { ownerCommand } from '../../core/command-line.js';

const RESCUE_START_MS = 90_000;

export function registerHandoffCommand(program: Command): void {
  program
    .command('handoff <id>')
    .description('hand the main to the rescue bot now (R3): write the incident brief into its workspace, grant it the lease, wake its agent')
    .option('--by <name>', 'who hands over (default: the user running the command)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', exitCodesHelp({ ok: 'handed over', failed: 'the handoff failed (rescue down, workspace not writable)', usage: 'bad or unknown id' }))
    .action(async (id: string, options: { by?: string; json?: boolean }) => {
      const config = await loadCommandConfig();
      const record = await requireIncident(config.home, id);
      if (record.status !== 'open') throw new UserError(`incident ${id} is already resolved; nothing to hand over`, EXIT.usage);
      if (record.instance !== 'main') throw new UserError(`incident ${id} is about the ${record.instance}; only the main is handed to the rescue`, EXIT.usage);
      // A main config that does not even parse is the usual case here: its facts come from the newest snapshot.
      const { runtime, runtimeProblem, instances } = await loadCommandContext({ settings: config, snapshotFallback: true });
      if (!runtime) throw new UserError(`cannot hand over without the Gateway: ${runtimeProblem}`, EXIT.failed);
      const homes = { runtime, userHome: config.userHome, lifeguardHome: config.home };
      const verdict = await probeConfigValidity({
        configPath: instances.main.configPath, flavour: runtime.flavour, runtime, env: gatewayEnvOf(instances.main, homes),
        gateway: { url: `ws://127.0.0.1:${instances.main.port}`, token: instances.main.token },
      }, { timeoutMs: config.guard.validateTimeoutMs });
      const diff = await diffAgainstNewestSnapshot(config.home, 'main', instances.main.configPath);
      const by = actor(options.by);
      const at = Date.now();
      const outcome = await handOff({
        record: { ...record, ...grantLease(record, at, config.handoff) }, main: instances.main, rescue: instances.rescue,
        cli: `${process.execPath} ${fileURLToPath(new URL('../../cli.js', import.meta.url))}`,
        config: summarizeVerdict(verdict),
        diff,
        ensureRescue: () => ensureRescueUp(instances.rescue, config.probes.timeoutMs),
        wakeAgent: config.handoff.wakeAgent, timeoutMs: 10_000,
      });
      if (outcome.ok) {
        await updateIncident(config.home, id, async (current) => {
          const { incident, effects } = handOverByOperator(current, by, at, config.handoff);
          const applied = applyStep(current, incident!, effects, at, host);
          await queueFromCommand(config, applied.alerts);
          return applied.record;
        });
      }
      process.exitCode = outcome.ok ? EXIT.ok : EXIT.failed;
      if (options.json) printJson({ id, handedOver: outcome.ok, detail: outcome.detail, leaseUntil: outcome.ok ? new Date(at + config.handoff.leaseMs).toISOString() : null });
      else stdout(outcome.ok ? `Incident ${id} handed to the rescue bot: ${outcome.detail}.` : `Handoff failed: ${outcome.detail}`);
    });
}

/** The rescue answers, or is started through PM2 (when PM2 runs) and given time to answer. */
async function ensureRescueUp(rescue: ResolvedInstance, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const answers = async () => {
    const session = new GatewaySession(`ws://127.0.0.1:${rescue.port}`, LIFEGUARD_VERSION);
    try {
      return (await runProbeCycle(rescue, session, timeoutMs)).live;
    } finally {
      session.close();
    }
  };
  if (await answers()) return { ok: true, detail: 'up' };
  if (!isPm2DaemonRunning()) return { ok: false, detail: `it does not answer and the PM2 daemon is not running (${ownerCommand('up')} starts everything)` };
  const pm2 = await connectPm2({ timeoutMs: 10_000 });
  try {
    const app = await pm2.describe(rescue.appName);
    if (app?.status !== 'online') await pm2.restart(rescue.appName);
  } finally {
    pm2.close();
  }
  const deadline = Date.now() + RESCUE_START_MS;
  while (Date.now() < deadline) {
    if (await answers()) return { ok: true, detail: 'started' };
    await sleep(2_000);
  }
  return { ok: false, detail: `it does not answer ${RESCUE_START_MS / 1000} s after starting it` };
}

/**
 * `npm run bench` (second part): how fast lifeguard tells the owner about a broken config, how fast a
 * crash on a broken config comes back on the last-known-good one, and how long an alert takes to reach
 * a receiver on loopback. Real OpenClaw under PM2, a real HTTP receiver on 127.0.0.1. Prints figures;
 * asserts nothing.
 *
 *   config made invalid (syntax / unknown key) -> config-invalid alert received   (target <= 3 s)
 *   bad config + crash -> main healthy on the last-known-good                       (target <= cold start + 5 s, <= 2 failed starts)
 *   alert delivery latency, event -> receiver, loopback                            (p50 and p99)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../src/core/log.js';
import { Dispatcher } from '../src/notify/dispatcher.js';
import { Outbox } from '../src/notify/outbox.js';
import { resolveProviders } from '../src/notify/registry.js';
import type { Alert } from '../src/notify/types.js';
import { LifeguardRun, describeResult, instanceOf, pollUntil, provisionRuntime, type StatusView } from '../test/helpers/harness.js';
import { Receiver } from '../test/helpers/receiver.js';
import { percentile, summary } from './figures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 200);

const healthy = (s: StatusView) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'main').config?.valid === true;


/** In-process: the dispatcher alone, alert queued -> request received, one provider on loopback. */
async function deliveryLatency(receiver: Receiver): Promise<number[]> {
  const home = mkdtempSync(join(tmpdir(), 'lg-bench-'));
  try {
    const { providers } = resolveProviders([{ type: 'webhook', name: 'bench', url: receiver.url('/bench') }]);
    const dispatcher = new Dispatcher({
      outbox: new Outbox(home), providers, log: createLogger({ level: 'silent' }), env: {}, now: Date.now, rescueGateway: () => undefined,
      settings: { attemptTimeoutMs: 5_000, retryMaxDelayMs: 2_000, giveUpAfterMs: 60_000 }, onUpdate: () => {},
    });
    const latencies: number[] = [];
    for (let i = 0; i < DELIVERIES; i += 1) {
      const queued = performance.now();
      const seen = receiver.requests.length;
      const alert: Alert = {
        event: 'test', incidentId: null, instance: null, severity: 'info', summary: `bench ${i}`, details: {}, commands: [],
        at: new Date().toISOString(), idempotencyKey: `bench-${i}`, host: 'bench',
      };
      await dispatcher.enqueue(alert);
      await dispatcher.drained();
      if (receiver.requests.length !== seen + 1) throw new Error(`delivery ${i} did not arrive`);
      latencies.push(performance.now() - queued);
    }
    return latencies;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const receiver = await Receiver.start();
  const run = await LifeguardRun.create({
    flavour: 'openclaw',
    config: [
      `  notify: [{ type: 'webhook', name: 'hook', url: '${receiver.url('/hook')}' }],`,
      '  alerts: { resolveAfterMs: 3000, retryMaxDelayMs: 2000 },',
      '  snapshots: { healthyForMs: 3000 },',
      '  restarts: { maxPerHour: 100, crashLoopExits: 100 },',
      '  escalation: { maxActionsPerHour: 100 },',
    ].join('\n'),
  });
  const configPath = join(run.home, '.openclaw', 'openclaw.json');
  try {
    const provisioned = await provisionRuntime('openclaw', run.dir);
    if (provisioned.code !== 0) throw new Error(`provisioning failed:\n${describeResult(provisioned)}`);
    const up = await run.cli(['up'], 300_000);
    if (up.code !== 0) throw new Error(`lifeguard up failed:\n${describeResult(up)}`);
    await run.waitForStatus('main healthy', healthy, 240_000);
    await pollUntil('a snapshot', async () => JSON.parse((await run.cli(['config', 'snapshots', '--json'])).stdout).length > 0, { timeoutMs: 60_000 });
    const good = readFileSync(configPath, 'utf8');

    /** Breaks the config, waits for the alert, puts it back and waits for the incident to close. */
    const timeToConfigAlert = async (broken: string): Promise<number> => {
      const seen = receiver.requests.length;
      const written = Date.now();
      writeFileSync(configPath, broken);
      const alert = await pollUntil('config-invalid alert', () => receiver.requests.slice(seen).find((r) => (r.json as { event?: string })?.event === 'config-invalid'), { timeoutMs: 60_000, intervalMs: 20 });
      writeFileSync(configPath, good);
      await pollUntil('resolved', () => receiver.requests.slice(seen).find((r) => (r.json as { event?: string })?.event === 'resolved'), { timeoutMs: 60_000, intervalMs: 200 });
      return alert.at - written;
    };
    const syntax: number[] = [];
    const schema: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      syntax.push(await timeToConfigAlert(`${good.trimEnd().slice(0, -1)}, "oops": }\n`));
      const parsed = JSON.parse(good) as Record<string, unknown>;
      schema.push(await timeToConfigAlert(`${JSON.stringify({ ...parsed, bogusTopKey: i }, null, 2)}\n`));
    }

    // Cold start of the Gateway on a good config, through PM2, as the yardstick for the repair.
    const coldStarts: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const started = Date.now();
      const restarted = await run.pm2(['restart', 'gateway-main']);
      if (restarted.code !== 0) throw new Error(describeResult(restarted));
      await sleep(500);
      await run.waitForStatus('main healthy after a restart', healthy, 180_000);
      coldStarts.push(Date.now() - started);
    }

    const repairs: number[] = [];
    const failedStarts: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      await run.waitForStatus('main healthy', healthy, 180_000);
      const pid = instanceOf(await run.status(), 'main').pid!;
      const journalSeen = run.journal().length;
      writeFileSync(configPath, `${good.trimEnd().slice(0, -1)}, "oops": }\n`);
      await pollUntil('the guard to see it', async () => instanceOf(await run.status(), 'main').config?.valid === false, { timeoutMs: 30_000, intervalMs: 100 });
      const killed = Date.now();
      process.kill(pid, 'SIGKILL');
      await sleep(1_000);
      // Not waitForStatus: it gives up on a main that is down [config-invalid], which is the point here.
      await pollUntil('main healthy on the last-known-good', async () => healthy(await run.status()), { timeoutMs: 240_000, intervalMs: 200 });
      repairs.push(Date.now() - killed);
      if (process.env.BENCH_VERBOSE) {
        const listed = JSON.parse((await run.cli(['incidents', '--json', '--limit', '1'])).stdout) as Array<{ id: string }>;
        const shown = JSON.parse((await run.cli(['incident', 'show', listed[0]!.id, '--json'])).stdout) as { timeline: Array<{ at: number; kind: string; text: string }> };
        process.stderr.write(`${shown.timeline.map((e) => `${new Date(e.at).toISOString().slice(11, 23)} ${e.kind} ${e.text}`).join('\n')}\n\n`);
      }
      failedStarts.push(run.journalSince(journalSeen, 'main').filter((e) => e.classification === 'config-invalid' && e.to === 'down').length);
      await sleep(4_000);
    }

    const arrivals = receiver.requests.flatMap((r) => {
      const at = Date.parse(String((r.json as { at?: string })?.at ?? ''));
      return Number.isFinite(at) ? [r.at - at] : [];
    });
    const inProcess = await deliveryLatency(receiver);
    const lines = [
      'lifeguard failover benchmark: real OpenClaw Gateway under PM2, webhook receiver on 127.0.0.1',
      `config made invalid (JSON5 syntax) -> alert received:   ${summary(syntax)}   target <= 3000 ms`,
      `config made invalid (unknown key)  -> alert received:   ${summary(schema)}   target <= 3000 ms`,
      `Gateway cold start through PM2 (good config):          ${summary(coldStarts)}`,
      `bad config + SIGKILL -> healthy on last-known-good:     ${summary(repairs)}   target <= cold start + 5000 ms`,
      `failed starts before the restore:                      max ${Math.max(...failedStarts)} (per run: ${failedStarts.join(', ')})   target <= 2`,
      `alert delivery, event -> received (supervisor, n=${arrivals.length}):  p50 ${percentile(arrivals, 50).toFixed(0)} ms, p99 ${percentile(arrivals, 99).toFixed(0)} ms`,
      `alert delivery, queued -> received (dispatcher alone, n=${inProcess.length}): p50 ${percentile(inProcess, 50).toFixed(1)} ms, p99 ${percentile(inProcess, 99).toFixed(1)} ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await run.teardown();
    run.remove();
    await receiver.down();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

/**
 * `node --import tsx bench/phone.ts [--flavour openclaw|clawdbot]` (after `npm run build`): the owner's
 * phone path with a real Gateway and a loopback Bot API, in a loopback-only network namespace (root).
 * Prints figures; asserts nothing.
 *
 *   /lifeguard status, message in -> reply out through the rescue's Telegram channel   (p50, max)
 *   alert -> message in the owner's chat, gateway provider, rescue up and rescue down:
 *     direct Bot API route (what `auto` takes for Telegram) against the CLI route (the baseline)
 *   channel deaf (Bot API unreachable) -> degraded alert; back -> resolved
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/load.js';
import { resolveInstances } from '../src/config/resolve-instances.js';
import { gatewayAccessOf } from '../src/launch/gateway-access.js';
import { sendAlert } from '../src/notify/dispatcher.js';
import { resolveProviders } from '../src/notify/registry.js';
import type { Alert, GatewayAccess } from '../src/notify/types.js';
import { resolveGatewayRuntime } from '../src/runtime/resolve.js';
import { describeResult, instanceOf, pollUntil, provisionRuntime, type Flavour } from '../test/helpers/harness.js';
import { reexecInLoopbackNamespace } from '../test/helpers/netns.js';
import { OWNER, RESCUE_BOT, createPhoneRun, type PhoneRun } from '../test/helpers/phone-run.js';
import { Receiver } from '../test/helpers/receiver.js';
import { summary } from './figures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const flavour: Flavour = process.argv.includes('--flavour') && process.argv[process.argv.indexOf('--flavour') + 1] === 'clawdbot' ? 'clawdbot' : 'openclaw';

await reexecInLoopbackNamespace(async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lg-bench-phone-'));
  const provisioned = await provisionRuntime(flavour, scratch);
  rmSync(scratch, { recursive: true, force: true });
  if (provisioned.code !== 0) throw new Error(`provisioning failed:\n${describeResult(provisioned)}`);
});

/** One alert through one `gateway` route, timed from the call to the message in the owner's chat. */
async function alertToChat(phone: PhoneRun, route: 'auto' | 'cli', rescue: GatewayAccess, label: string): Promise<number | string> {
  const key = `bench-${route}-${label}-${Date.now()}`;
  const { providers } = resolveProviders([{ type: 'gateway', name: route, channel: 'telegram', target: String(OWNER.id), via: route, ...(flavour === 'clawdbot' ? { apiRoot: phone.api.apiRoot } : {}) }]);
  const alert: Alert = {
    event: 'test', incidentId: null, instance: null, severity: 'info', summary: `bench alert ${key}`, details: {}, commands: [],
    at: new Date().toISOString(), idempotencyKey: key, host: 'bench',
  };
  const started = Date.now();
  try {
    await sendAlert(providers[0]!, alert, { timeoutMs: 150_000, env: process.env, rescueGateway: rescue });
    const message = await phone.api.waitForSent(RESCUE_BOT.name, OWNER.id, (m) => m.text.includes(key), { since: started, timeoutMs: 10_000 });
    return message.at - started;
  } catch (error) {
    return `failed after ${Math.round((Date.now() - started) / 1000)} s: ${String(error).slice(0, 160)}`;
  }
}

function figure(values: ReadonlyArray<number | string>): string {
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const failures = values.filter((v): v is string => typeof v === 'string');
  return `${numbers.length > 0 ? summary(numbers) : 'no delivery'}${failures.length > 0 ? `; ${failures.length} failed (${failures[0]})` : ''}`;
}

async function main(): Promise<void> {
  const receiver = await Receiver.start();
  const phone = await createPhoneRun(flavour, {
    config: ['  handoff: { wakeAgent: false },', '  alerts: { resolveAfterMs: 5000 },'],
    extraNotify: `{ type: 'webhook', name: 'hook', url: '${receiver.url('/hook')}' }`,
  });
  const { run, api } = phone;
  const figures: string[] = [];
  // Each figure is printed as soon as it is measured: a bench cut short still tells what it saw.
  const record = (line: string) => {
    figures.push(line);
    process.stdout.write(`  ${line}\n`);
  };
  try {
    const up = await run.cli(['up'], 300_000);
    if (up.code !== 0) throw new Error(`lifeguard up failed:\n${describeResult(up)}`);
    await run.waitForStatus('both healthy', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy', 300_000);
    await pollUntil('the rescue bot to answer', () => phone.say(OWNER, '/lifeguard help', (shown) => shown.startsWith('🛟 lifeguard'), 30_000).catch(() => undefined), { timeoutMs: 300_000 });

    const roundTrips: number[] = [];
    for (let i = 0; i < RUNS; i += 1) roundTrips.push((await phone.say(OWNER, '/lifeguard status', (shown) => /main: /.test(shown), 120_000)).ms);
    record(`/lifeguard status round trip through Telegram: ${summary(roundTrips)}`);

    const config = await loadConfig({ env: run.env, cwd: run.dir });
    const runtime = await resolveGatewayRuntime(config, { env: run.env, provision: false, progress: () => {} });
    const instances = await resolveInstances(config, runtime.flavour);
    const rescue = gatewayAccessOf(instances.rescue, { runtime, userHome: config.userHome, lifeguardHome: config.home });

    const directUp: Array<number | string> = [];
    for (let i = 0; i < RUNS; i += 1) directUp.push(await alertToChat(phone, 'auto', rescue, `up${i}`));
    record(`alert -> owner's chat, rescue up, direct Bot API: ${figure(directUp)}`);

    // The Bot API goes away: the rescue's channel is deaf, its /readyz stays green.
    const seen = receiver.requests.length;
    const event = (name: string) => receiver.requests.slice(seen).find((r) => {
      const body = r.json as { event?: string; instance?: string } | undefined;
      return body?.event === name && body.instance === 'rescue.telegram';
    });
    const deafAt = Date.now();
    await api.stop();
    const degraded = await pollUntil('the degraded alert', () => event('degraded'), { timeoutMs: 300_000, intervalMs: 200 });
    record(`channel deaf -> degraded alert: ${((degraded.at - deafAt) / 1000).toFixed(1)} s (probe every 30 s, deaf after 60 s of failures)`);
    const backAt = Date.now();
    await api.resume();
    const resolved = await pollUntil('the resolved alert', () => event('resolved'), { timeoutMs: 300_000, intervalMs: 200 });
    record(`channel back -> resolved alert: ${((resolved.at - backAt) / 1000).toFixed(1)} s`);

    const stopped = await run.pm2(['stop', 'gateway-rescue']);
    if (stopped.code !== 0) throw new Error(describeResult(stopped));
    await sleep(2_000);
    const directDown: Array<number | string> = [];
    for (let i = 0; i < RUNS; i += 1) directDown.push(await alertToChat(phone, 'auto', rescue, `down${i}`));
    record(`alert -> owner's chat, rescue DOWN, direct Bot API: ${figure(directDown)}`);
    // The slow baselines last: what the direct route replaces.
    record(`alert -> owner's chat, rescue DOWN, CLI (baseline): ${figure([await alertToChat(phone, 'cli', rescue, 'down')])}`);
    const started = await run.pm2(['start', 'gateway-rescue']);
    if (started.code !== 0) throw new Error(describeResult(started));
    await run.waitForStatus('the rescue healthy again', (s) => instanceOf(s, 'rescue').state === 'healthy', 300_000);
    record(`alert -> owner's chat, rescue up, CLI (baseline): ${figure([await alertToChat(phone, 'cli', rescue, 'up')])}`);
  } finally {
    process.stdout.write(`\nphone path, ${flavour} (${new Date().toISOString()}):\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
    await phone.stop();
    await receiver.down();
  }
}

await main();

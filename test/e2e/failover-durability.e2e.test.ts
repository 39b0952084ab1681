/**
 * Durability of incidents and alerts on OpenClaw, under a real PM2, with alerts going to a real HTTP
 * receiver on 127.0.0.1 that also plays the Telegram Bot API: alerts survive a receiver that is away
 * for half a minute and a lifeguard killed mid-incident, each arriving exactly once; Telegram gets the
 * crash alert and a garbage answer is retried, not taken for a delivery; a pause silences a crash; and
 * no secret ends up in what was sent, recorded or logged.
 *
 * One lifeguard installation for the whole file (start-ups are the expensive part): the tests run in
 * order and each leaves the main healthy, with no open incident, for the next.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startAlertedRun, type AlertedRun } from '../helpers/alerted-run.js';
import { LifeguardRun, describeResult, instanceOf, pollUntil, stripAnsi } from '../helpers/harness.js';
import type { Receiver, ReceivedRequest } from '../helpers/receiver.js';
import type { IncidentRecord } from '../../src/incidents/record.js';
import type { Delivery } from '../../src/notify/outbox.js';

const UP_DEADLINE_MS = 180_000;
const RECOVERY_DEADLINE_MS = 150_000;
/** Must look like a real one (digits, colon, 20+ characters) or lifeguard refuses the entry. */
const BOT_TOKEN = '123456:TEST-token-abc-0123456789';
const TELEGRAM_PATH = `/bot${BOT_TOKEN}/sendMessage`;

type IncidentSummary = Omit<IncidentRecord, 'timeline' | 'logTail'>;

describe('failover durability on OpenClaw: outbox, lifeguard restart, Telegram, pause, secrets', { timeout: 15 * 60_000 }, () => {
  let lg: AlertedRun;
  let run: LifeguardRun;
  let receiver: Receiver;
  let ready = false;
  let telegramAnswer: 'ok' | 'garbage' = 'ok';
  /** Tokens seen during the run that must never leave the config file (a rotated one is added by the last test). */
  const gatewayTokens: string[] = [];
  const requireReady = () => assert.ok(ready, 'lifeguard did not come up (see the first failure)');

  const main = async () => instanceOf(await run.status(), 'main');
  const incident = (id: string) => lg.incident(id);
  const incidents = async () => {
    const listed = await run.cli(['incidents', '--json', '--limit', '100']);
    assert.equal(listed.code, 0, describeResult(listed));
    return JSON.parse(listed.stdout) as IncidentSummary[];
  };
  const hookEventsOf = (id: string) => receiver.events().filter((e) => e.incidentId === id);
  /** What the fake Bot API received about one incident (its context line names the incident). */
  const telegramOf = (id: string) => receiver.requestsTo('/bot').filter((r) => textOf(r).includes(`incident ${id}`));
  const describeReceived = () => `${JSON.stringify(receiver.events().map((e) => [e.event, e.incidentId, e.idempotencyKey]))}\ntelegram: ${receiver.requestsTo('/bot').length} requests\n${run.diagnostics()}`;
  const waitForEvent: AlertedRun['waitForEvent'] = (...args) => lg.waitForEvent(...args);
  const waitForNewIncident = (known: ReadonlySet<string>, timeoutMs: number) =>
    pollUntil('a new open incident of the main', async () => (await incidents()).find((i) => i.instance === 'main' && i.status === 'open' && !known.has(i.id)), {
      timeoutMs, intervalMs: 500, describeLast: () => run.diagnostics(),
    });
  const waitForDeliveries = (id: string, count: number, timeoutMs: number) =>
    pollUntil(`${count} deliveries of ${id} settled as delivered`, async () => {
      const record = await incident(id);
      return record.deliveries.length === count && record.deliveries.every((d) => d.status === 'delivered') ? record : undefined;
    }, { timeoutMs, intervalMs: 500, describeLast: () => describeReceived() });
  const killMain = async () => {
    const before = await main();
    assert.equal(before.state, 'healthy', `the main must be healthy before the kill: ${JSON.stringify(before)}`);
    process.kill(before.pid!, 'SIGKILL');
    return before.pid!;
  };
  const mainHealthyAgain = (oldPid: number) => run.waitForStatus('the main healthy again on a new process', (s) => {
    const m = instanceOf(s, 'main');
    return m.state === 'healthy' && m.pid !== null && m.pid !== oldPid;
  }, RECOVERY_DEADLINE_MS);

  /** One incident as the user sees it: down then resolved on both providers, each exactly once. */
  const assertExactlyOnce = (id: string) => {
    const hook = hookEventsOf(id);
    assert.deepEqual(hook.map((e) => e.event), ['down', 'resolved'], `webhook got: ${JSON.stringify(hook.map((e) => [e.event, e.idempotencyKey]))}`);
    const keys = hook.map((e) => e.idempotencyKey);
    assert.equal(new Set(keys).size, keys.length, `duplicate idempotency keys: ${keys.join(', ')}`);
    assert.deepEqual(keys, [`${id}.down.1`, `${id}.resolved.1`]);
    const telegram = telegramOf(id).map((r) => (textOf(r).startsWith('<b>✅') ? 'resolved' : 'down'));
    assert.deepEqual(telegram, ['down', 'resolved'], 'the fake Bot API must get the down and then the resolved message, once each');
  };

  before(async () => {
    lg = await startAlertedRun({
      flavour: 'openclaw',
      reply: (request) => {
        if (!request.path.startsWith('/bot')) return { status: 200, body: '{"ok":true}' };
        return telegramAnswer === 'ok' ? { status: 200, body: '{"ok":true,"result":{}}' } : { status: 200, body: '<html>captive portal</html>' };
      },
      moreProviders: (r) => [`{ type: 'telegram', botToken: '${BOT_TOKEN}', chatId: '42', apiBaseUrl: '${r.url('')}' }`],
      config: [
        '  snapshots: { healthyForMs: 3000 },',
        '  guard: { intervalMs: 5000 },',
        // The file kills the main four times within minutes; that is no crash loop for these tests.
        '  restarts: { crashLoopExits: 10 },',
      ],
      describeReceived,
    });
    ({ run, receiver } = lg);
  });

  after(() => lg?.teardown());

  it('comes up healthy and snapshots the main config', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);
    await lg.waitForSnapshots((snapshots) => snapshots.some((s) => s.matchesCurrent));
    gatewayTokens.push(mainToken(run));
    assert.ok(gatewayTokens[0]!.length >= 16, 'the main Gateway must have a token to keep secret');
    ready = true;
  });

  it('`notify test` reports ok for every provider; the fake Bot API gets it for chat 42', { timeout: 60_000 }, async () => {
    requireReady();
    const before = receiver.requestsTo('/bot').length;
    const tested = await run.cli(['notify', 'test', '--json']);
    assert.equal(tested.code, 0, describeResult(tested));
    const report = JSON.parse(tested.stdout) as { ok: boolean; results: Array<{ provider: string; type: string; ok: boolean; error?: string }>; problems: string[] };
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.results.map((r) => [r.provider, r.type, r.ok]), [['hook', 'webhook', true], ['telegram', 'telegram', true]], tested.stdout);
    assert.equal(report.ok, true);
    const sent = receiver.requestsTo('/bot').slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.method, 'POST');
    assert.equal(sent[0]!.path, TELEGRAM_PATH);
    const body = sent[0]!.json as { chat_id: unknown; text: string; parse_mode?: string };
    assert.equal(String(body.chat_id), '42');
    assert.match(body.text, /test alert/);
  });

  it('a receiver down for 30 s during an incident: down and resolved each arrive exactly once, recorded as delivered after retries', { timeout: 5 * 60_000 }, async (t) => {
    requireReady();
    const known = new Set((await incidents()).map((i) => i.id));
    await receiver.down();
    const downAt = Date.now();
    const oldPid = await killMain();
    const id = (await waitForNewIncident(known, 30_000)).id;

    // While it is away, the record tells the user why nothing arrived: pending, retried, connection refused.
    const retrying = await pollUntil('the down alerts retrying in the record', async () => {
      const downs = (await incident(id)).deliveries.filter((d) => d.event === 'down');
      return downs.length === 2 && downs.every((d) => d.status === 'pending' && d.attempts >= 2) ? downs : undefined;
    }, { timeoutMs: 25_000, intervalMs: 500, describeLast: () => run.diagnostics() });
    for (const d of retrying) assert.match(d.error ?? '', /ECONNREFUSED/, JSON.stringify(d));

    // The main comes back and the incident resolves while the receiver is still away, so `resolved` waits too.
    await mainHealthyAgain(oldPid);
    await pollUntil('the incident resolved (receiver still down)', async () => (await incident(id)).status === 'resolved', { timeoutMs: 60_000, intervalMs: 500 });
    const left = downAt + 30_000 - Date.now();
    if (left > 0) await sleep(left);
    assert.ok(!receiver.listening);
    await receiver.up();
    const upAt = Date.now();
    t.diagnostic(`receiver away for ${Math.round((upAt - downAt) / 1000)} s`);

    await waitForEvent('the resolved alert after the receiver is back', (e) => e.event === 'resolved' && e.incidentId === id, 60_000);
    const record = await waitForDeliveries(id, 4, 30_000);
    // A moment more for anything that would arrive twice.
    await sleep(3_000);
    assertExactlyOnce(id);
    const downs = record.deliveries.filter((d) => d.event === 'down');
    for (const d of downs) assert.ok(d.attempts > 1, `down → ${d.provider} waited 30 s and must show its failed attempts: ${JSON.stringify(d)}`);
    t.diagnostic(`deliveries: ${record.deliveries.map((d) => `${d.event}→${d.provider} ${d.status} after ${d.attempts}`).join(', ')}`);
    const delivered = record.timeline.filter((e) => e.kind === 'delivery').map((e) => e.text);
    assert.ok(delivered.some((text) => /^down → hook: delivered after \d+ attempts/.test(text)), delivered.join('\n'));
    // The outbox is empty for this incident and holds each delivery once as done.
    const outbox = outboxOf(run, id);
    assert.deepEqual(outbox.pending, []);
    assert.equal(outbox.done.length, 4, JSON.stringify(outbox.done.map((d) => d.id)));
    assert.ok(outbox.done.every((d) => d.status === 'delivered'));
  });

  it('lifeguard SIGKILLed mid-incident: the same incident continues, down and resolved each once, no action repeated', { timeout: 5 * 60_000 }, async (t) => {
    requireReady();
    const known = new Set((await incidents()).map((i) => i.id));
    await receiver.down();
    const oldPid = await killMain();
    const id = (await waitForNewIncident(known, 30_000)).id;
    const beforeKill = await incident(id);

    const supervisor = (await run.pm2List()).find((app) => app.name === 'lifeguard');
    assert.ok(supervisor?.pid, 'the lifeguard app runs under PM2');
    process.kill(supervisor.pid, 'SIGKILL');
    const restarted = await pollUntil('PM2 to restart lifeguard', async () => {
      const app = (await run.pm2List()).find((a) => a.name === 'lifeguard');
      return app && app.pid > 0 && app.pid !== supervisor.pid && app.pm2_env.status === 'online' ? app : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    await run.waitForStatus('the restarted lifeguard reporting', (s) => s.supervisor.running && s.supervisor.pid === restarted.pid, 60_000);
    // The restarted lifeguard must take up the pending alerts itself, still against a receiver that is away.
    await pollUntil('the restarted lifeguard retrying the down alert', async () => {
      const d = (await incident(id)).deliveries.find((x) => x.event === 'down' && x.provider === 'hook');
      const was = beforeKill.deliveries.find((x) => x.event === 'down' && x.provider === 'hook')?.attempts ?? 0;
      return d && d.status === 'pending' && d.attempts > was ? d : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, describeLast: () => run.diagnostics() });
    await receiver.up();

    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === id, RECOVERY_DEADLINE_MS);
    await mainHealthyAgain(oldPid);
    const record = await waitForDeliveries(id, 4, 30_000);
    await sleep(3_000);
    assertExactlyOnce(id);

    const opened = (await incidents()).filter((i) => i.instance === 'main' && !known.has(i.id)).map((i) => i.id);
    assert.deepEqual(opened, [id], 'the outage must stay one incident across the lifeguard restart');
    assert.equal(record.status, 'resolved');
    assert.equal(record.timeline.filter((e) => e.text.startsWith('opened:')).length, 1);
    const actions = record.actions.map((a) => `${a.rung} ${a.action}`);
    assert.equal(new Set(actions).size, actions.length, `an action was repeated: ${JSON.stringify(record.actions, null, 1)}`);
    assert.ok(record.actions.every((a) => a.status !== 'started'), JSON.stringify(record.actions));
    for (const a of beforeKill.actions) assert.equal(record.actions.filter((b) => b.at === a.at && b.action === a.action).length, 1);
    t.diagnostic(`actions: ${JSON.stringify(record.actions.map((a) => [a.rung, a.action, a.status]))}`);
  });

  it('Telegram: the crash alert reaches the fake Bot API for chat 42; garbage answers are retried, never marked delivered', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    const known = new Set((await incidents()).map((i) => i.id));
    telegramAnswer = 'garbage';
    const oldPid = await killMain();
    const down = await waitForEvent('a down alert of a new incident', (e) => e.event === 'down' && !known.has(e.incidentId ?? ''), 30_000);
    const id = down.incidentId!;

    const refused = await pollUntil('the Telegram delivery retried on garbage', async () => {
      const d = (await incident(id)).deliveries.find((x) => x.event === 'down' && x.provider === 'telegram');
      return d && d.attempts >= 3 && telegramOf(id).length >= 3 ? d : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, describeLast: describeReceived });
    assert.equal(refused.status, 'pending', `garbage is no delivery: ${JSON.stringify(refused)}`);
    assert.match(refused.error ?? '', /Bot API/);
    assert.ok(!(refused.error ?? '').includes(BOT_TOKEN));
    const hookDown = (await incident(id)).deliveries.find((x) => x.event === 'down' && x.provider === 'hook');
    assert.equal(hookDown?.status, 'delivered', 'a broken Telegram must not hold up the webhook');

    const tries = telegramOf(id).length;
    telegramAnswer = 'ok';
    await pollUntil('the Telegram down delivery delivered', async () => {
      const d = (await incident(id)).deliveries.find((x) => x.event === 'down' && x.provider === 'telegram');
      return d?.status === 'delivered' ? d : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, describeLast: describeReceived });
    const accepted = telegramOf(id)[tries]!;
    assert.ok(accepted, 'the retry after the garbage must reach the fake Bot API');
    assert.equal(accepted.path, TELEGRAM_PATH);
    const body = accepted.json as { chat_id: unknown; text: string; parse_mode?: string };
    assert.equal(String(body.chat_id), '42');
    assert.equal(body.parse_mode, 'HTML');
    assert.match(body.text, /main Gateway is down/);
    assert.ok(body.text.includes(`incident ${id}`), body.text);
    assert.ok(body.text.includes(`lifeguard incident show ${id}`), body.text);
    // Every retry carried the same message.
    assert.ok(telegramOf(id).slice(0, tries + 1).every((r) => r.body === accepted.body));

    await waitForEvent('the resolved alert', (e) => e.event === 'resolved' && e.incidentId === id, RECOVERY_DEADLINE_MS);
    await mainHealthyAgain(oldPid);
    await waitForDeliveries(id, 4, 30_000);
    const resolvedMessages = telegramOf(id).filter((r) => textOf(r).startsWith('<b>✅'));
    assert.equal(resolvedMessages.length, 1);
  });

  it('`pause main --for 10m`: a crash sends nothing and opens no incident (PM2 still restarts it); `resume` lifts it', { timeout: 5 * 60_000 }, async () => {
    requireReady();
    const paused = await run.cli(['pause', 'main', '--for', '10m', '--json']);
    assert.equal(paused.code, 0, describeResult(paused));
    const until = Date.parse((JSON.parse(paused.stdout) as { pausedUntil: string }).pausedUntil);
    assert.ok(Math.abs(until - (Date.now() + 10 * 60_000)) < 30_000, paused.stdout);
    const shown = await run.waitForStatus('status showing the pause', (s) => {
      const m = instanceOf(s, 'main');
      return m.pausedUntil !== null && /paused/.test(m.automationHeld ?? '');
    }, 20_000);
    assert.equal(Date.parse(instanceOf(shown, 'main').pausedUntil!), until);

    const known = new Set((await incidents()).map((i) => i.id));
    const received = receiver.requests.length;
    const journalBefore = run.journal().length;
    const oldPid = await killMain();
    await mainHealthyAgain(oldPid);
    // Longer than resolveAfterMs plus a few ticks: anything the crash would send or open has happened by now.
    await sleep(8_000);
    const saw = run.journalSince(journalBefore, 'main').map((e) => e.to);
    assert.ok(saw.includes('down'), `the detector still sees the crash: ${saw.join(' → ')}`);
    assert.deepEqual((await incidents()).filter((i) => !known.has(i.id)).map((i) => i.id), [], 'no incident during a pause');
    assert.deepEqual(receiver.requests.slice(received).map((r) => r.path), [], 'no alert during a pause');
    assert.match((await main()).automationHeld ?? '', /paused/);

    const resumed = await run.cli(['resume', 'main', '--json']);
    assert.equal(resumed.code, 0, describeResult(resumed));
    assert.equal((JSON.parse(resumed.stdout) as { wasPaused: boolean }).wasPaused, true);
    await run.waitForStatus('the pause lifted in status', (s) => {
      const m = instanceOf(s, 'main');
      return m.pausedUntil === null && m.automationHeld === null && m.state === 'healthy';
    }, 20_000);
    await sleep(3_000);
    assert.deepEqual(receiver.requests.slice(received).map((r) => r.path), [], 'resuming a healthy main sends nothing');
    assert.deepEqual((await incidents()).filter((i) => !known.has(i.id)).map((i) => i.id), []);
  });

  it('no secret (Gateway token, bot token) in what was sent, recorded, logged or diffed', { timeout: 2 * 60_000 }, async (t) => {
    requireReady();
    // A rotated token makes `config diff` show a secret change, the case where a leak is most likely.
    const path = mainConfigPath(run);
    const original = readFileSync(path, 'utf8');
    const rotated = randomBytes(24).toString('hex');
    gatewayTokens.push(rotated);
    assert.ok(original.includes(gatewayTokens[0]!));
    writeFileSync(path, original.split(gatewayTokens[0]!).join(rotated));
    let diffText: string;
    let diffJson: { secretsChanged: number; patch: string; summary: string };
    try {
      const plain = await run.cli(['config', 'diff']);
      assert.equal(plain.code, 0, describeResult(plain));
      const json = await run.cli(['config', 'diff', '--json']);
      assert.equal(json.code, 0, describeResult(json));
      diffText = `${plain.stdout}\n${plain.stderr}\n${json.stdout}\n${json.stderr}`;
      diffJson = JSON.parse(json.stdout) as typeof diffJson;
    } finally {
      writeFileSync(path, original);
    }
    assert.equal(diffJson.secretsChanged, 1, diffJson.summary);
    assert.match(diffJson.patch, /\[redacted, changed\]/);
    // Give the guard a round on both versions so whatever it logs about them is in the logs scanned below.
    await sleep(7_000);

    const secrets = [...gatewayTokens, BOT_TOKEN, BOT_TOKEN.split(':')[1]!];
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where} contains ${secret.slice(0, 6)}…`);
    };
    assert.ok(receiver.requests.length > 10, 'the receiver must have something to scan');
    for (const [i, r] of receiver.requests.entries()) {
      const isTelegram = r.path.startsWith('/bot');
      if (isTelegram) assert.equal(r.path, TELEGRAM_PATH, 'the Bot API takes the token in the URL path');
      scan(`request ${i} path`, isTelegram ? r.path.replace(TELEGRAM_PATH, '') : r.path);
      scan(`request ${i} headers`, JSON.stringify(r.headers));
      scan(`request ${i} body`, r.body);
    }
    const files = [
      ...listFiles(join(run.lifeguardHome, 'incidents')),
      ...listFiles(join(run.lifeguardHome, 'outbox')),
      run.journalPath,
      ...readdirSync(join(run.lifeguardHome, 'logs')).filter((n) => /^lifeguard\..*log$/.test(n)).map((n) => join(run.lifeguardHome, 'logs', n)),
    ];
    assert.ok(files.some((f) => f.includes('/incidents/')) && files.some((f) => f.includes('/outbox/')) && files.some((f) => f.endsWith('.log')), files.join('\n'));
    for (const file of files) scan(file.slice(run.lifeguardHome.length + 1), readFileSync(file, 'utf8'));
    scan('config diff output', stripAnsi(diffText));
    // The control: a snapshot is the config verbatim, token and all, so the scan does find it where it is.
    const snapshots = listFiles(join(run.lifeguardHome, 'snapshots', 'main')).filter((f) => f.endsWith('.json5'));
    assert.ok(snapshots.some((f) => readFileSync(f, 'utf8').includes(gatewayTokens[0]!)), 'the scan must be able to see the token');
    t.diagnostic(`scanned ${receiver.requests.length} requests and ${files.length} files`);
    assert.deepEqual(leaks, []);
  });
});

function mainConfigPath(run: LifeguardRun): string {
  return join(run.home, '.openclaw', 'openclaw.json');
}

function mainToken(run: LifeguardRun): string {
  return (JSON.parse(readFileSync(mainConfigPath(run), 'utf8')) as { gateway: { auth: { token: string } } }).gateway.auth.token;
}

function textOf(request: ReceivedRequest): string {
  const body = request.json as { text?: unknown } | undefined;
  return typeof body?.text === 'string' ? body.text : '';
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** The outbox files of one incident's alerts, as lifeguard left them. */
function outboxOf(run: LifeguardRun, id: string): { pending: string[]; done: Delivery[] } {
  const dir = (sub: string) => join(run.lifeguardHome, 'outbox', sub);
  const ours = (sub: string) => (existsSync(dir(sub)) ? readdirSync(dir(sub)).filter((n) => n.startsWith(`${id}.`) && n.endsWith('.json')) : []);
  return {
    pending: ours('pending'),
    done: ours('done').map((n) => JSON.parse(readFileSync(join(dir('done'), n), 'utf8')) as Delivery),
  };
}

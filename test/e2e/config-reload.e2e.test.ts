/**
 * The config file that `status` names is the one the running supervisor reads: a webhook added to it
 * while everything runs alerts the next crash, without any restart of lifeguard; a broken edit is
 * reported through the providers that still work and changes nothing; a port change waits as pending.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startProvisionedRun, type ProvisionedRun } from '../helpers/alerted-run.js';
import { instanceOf, pollUntil, type LifeguardRun, type StatusView } from '../helpers/harness.js';
import { Receiver } from '../helpers/receiver.js';

const UP_DEADLINE_MS = 180_000;
/** The promise: an edit is in force within 10 s. */
const APPLY_DEADLINE_MS = 10_000;

describe('config reload on OpenClaw: edits of the file in effect apply without a restart', { timeout: 10 * 60_000 }, () => {
  let lg: ProvisionedRun;
  let run: LifeguardRun;
  let receiver: Receiver;
  let original = '';
  let supervisorPid: number | null = null;

  before(async () => {
    receiver = await Receiver.start();
    lg = await startProvisionedRun({ flavour: 'openclaw', config: ['  alerts: { resolveAfterMs: 5000, retryMaxDelayMs: 2000 },'] }, () => receiver.down());
    run = lg.run;
  });
  after(() => lg?.teardown());

  const waitForStatus = (what: string, accept: (s: StatusView) => boolean) =>
    pollUntil(what, async () => {
      const status = await run.status();
      return accept(status) ? status : undefined;
    }, { timeoutMs: APPLY_DEADLINE_MS + 5_000, intervalMs: 250, describeLast: () => JSON.stringify(run.lastStatus?.configEdit) });

  it('comes up with no alert destination, says so, and names the config file in effect', { timeout: 6 * 60_000 }, async () => {
    await lg.comeUp(UP_DEADLINE_MS);
    const status = await waitForStatus('the supervisor reports its providers', (s) => s.alertProviders !== null);
    assert.equal(status.configFile, run.configFile);
    assert.deepEqual(status.alertProviders, []);
    const text = await run.cli(['status']);
    assert.match(text.stdout, /alerts\s+NONE: no alert destination is configured/);
    supervisorPid = status.supervisor.pid;
    original = readFileSync(status.configFile!, 'utf8');
  });

  it('a webhook added to that file is in force within 10 s, and the next kill -9 of the main alerts it', { timeout: 3 * 60_000 }, async () => {
    assert.ok(supervisorPid, 'lifeguard did not come up (see the first failure)');
    const edited = original.replace(/\}\s*$/, `  notify: [{ type: 'webhook', name: 'hook', url: '${receiver.url('/hook')}' }],\n}\n`);
    const editedAt = Date.now();
    writeFileSync(run.configFile, edited);
    await waitForStatus('the webhook in force', (s) => s.alertProviders?.includes('hook') === true);
    console.log(`# edit -> providers applied: ${((Date.now() - editedAt) / 1000).toFixed(1)} s`);
    const main = instanceOf(await run.status(), 'main');
    process.kill(main.pid!, 'SIGKILL');
    const down = await pollUntil('a down alert at the new webhook', () => receiver.events().find((e) => e.event === 'down'), { timeoutMs: 30_000 });
    assert.equal(down.body.instance, 'main');
    const after = await run.status();
    assert.equal(after.supervisor.pid, supervisorPid, 'lifeguard was not restarted');
    await run.waitForStatus('main healthy again', (s) => instanceOf(s, 'main').state === 'healthy', 150_000);
  });

  it('a broken edit is alerted through the webhook and changes nothing; a port change waits as pending', { timeout: 2 * 60_000 }, async () => {
    assert.ok(supervisorPid, 'lifeguard did not come up (see the first failure)');
    const good = readFileSync(run.configFile, 'utf8');
    writeFileSync(run.configFile, `${good.replace(/\}\s*$/, '')}  probes: { intervalMs: 'often' },\n}\n`);
    const rejected = await pollUntil('an alert about the rejected edit', () => receiver.events().find((e) => e.event === 'config-invalid' && e.body.instance === 'lifeguard'), { timeoutMs: APPLY_DEADLINE_MS + 5_000 });
    assert.equal(rejected.body.severity, 'warning');
    const status = await waitForStatus('the rejection in status', (s) => s.configEdit?.error !== null && s.configEdit?.error !== undefined);
    assert.match(status.configEdit!.error!, /probes\.intervalMs/);
    assert.deepEqual(status.alertProviders, ['hook']);

    writeFileSync(run.configFile, good.replace(`main: { port: ${run.ports.main}`, `main: { port: ${run.ports.main + 1000}`));
    const pending = await waitForStatus('the port change pending', (s) => (s.configEdit?.pending ?? []).includes('instances'));
    assert.equal(pending.configEdit!.error, null);
    assert.match(pending.configEdit!.pendingFix!, /npx lifeguard down && npx lifeguard up/);
    assert.equal(instanceOf(pending, 'main').port, run.ports.main);
    writeFileSync(run.configFile, good);
    await waitForStatus('nothing pending once the file is back', (s) => s.configEdit?.pending.length === 0);
    assert.equal((await run.status()).supervisor.pid, supervisorPid, 'lifeguard was not restarted');
  });
});

/**
 * The set-up most end-to-end tests share: one hermetic LifeguardRun with the pinned Gateway provisioned,
 * optionally with its alerts going to a real webhook Receiver on 127.0.0.1 under short alert timers,
 * and the helpers to wait for an alert and to read an incident as `incident show --json` prints it.
 */
import assert from 'node:assert/strict';
import type { IncidentRecord } from '../../src/incidents/record.js';
import { LifeguardRun, describeResult, instanceOf, pollUntil, provisionRuntime, type Flavour } from './harness.js';
import { Receiver } from './receiver.js';

/** One webhook delivery as the Receiver parsed it. */
export type ReceivedEvent = ReturnType<Receiver['events']>[number];

export interface ProvisionedRunSetup {
  readonly flavour: Flavour;
  /** Top-level lifeguard.json5 entries, one JSON5 line each (e.g. `'  guard: { intervalMs: 5000 },'`). */
  readonly config?: readonly string[];
  /** `instances.main.env`: variables PM2 passes the main Gateway (e.g. a NODE_OPTIONS preload that injects faults). */
  readonly mainEnv?: Readonly<Record<string, string>>;
}

/** One entry of `config snapshots --json`. */
export interface SnapshotEntry {
  readonly id: string;
  readonly matchesCurrent: boolean;
}

export interface ProvisionedRun {
  readonly run: LifeguardRun;
  /** `lifeguard up` (exit 0 within 2 min), then both instances healthy within `deadlineMs`. */
  comeUp(deadlineMs: number): Promise<void>;
  /** Polls `config snapshots --json` (up to 60 s) until `accept` takes the list (by default: one or more). */
  waitForSnapshots(accept?: (snapshots: SnapshotEntry[]) => boolean): Promise<SnapshotEntry[]>;
  /** `incident show <id> --json`, which must exit 0. */
  incident(id: string): Promise<IncidentRecord>;
  /** Stops everything the run started and removes its dir; safe to call twice. */
  teardown(): Promise<void>;
}

export interface AlertedRunSetup extends ProvisionedRunSetup {
  /**
   * Providers beside the webhook `hook` (one JSON5 object each), given the receiver: they go into the
   * `notify` list after it, e.g. a Telegram entry whose apiBaseUrl is the receiver.
   */
  readonly moreProviders?: (receiver: Receiver) => readonly string[];
  /** How the receiver answers, set before lifeguard can send anything. */
  readonly reply?: Receiver['reply'];
  /** How often `waitForEvent` looks at what arrived (ms). */
  readonly eventPollMs?: number;
  /** What `waitForEvent` prints as last seen when it times out; the events and the run's diagnostics by default. */
  readonly describeReceived?: () => string;
}

export interface AlertedRun extends ProvisionedRun {
  readonly receiver: Receiver;
  /** The first webhook event (in arrival order; `index` is its position) that `accept` takes. */
  waitForEvent(what: string, accept: (event: ReceivedEvent, index: number) => boolean, timeoutMs: number): Promise<ReceivedEvent>;
}

/** The alert timers every alerted run uses: resolved 5 s after recovery, retries at most 2 s apart. */
const SHORT_ALERT_TIMERS = '  alerts: { resolveAfterMs: 5000, retryMaxDelayMs: 2000 },';

/**
 * Creates a LifeguardRun with `config` and installs (or finds) its pinned Gateway. When provisioning
 * fails, what was made is torn down before the failure is thrown.
 */
export async function startProvisionedRun(setup: ProvisionedRunSetup, onTeardown: () => Promise<void> = async () => {}): Promise<ProvisionedRun> {
  let run: LifeguardRun | undefined;
  const teardown = async () => {
    await run?.teardown();
    run?.remove();
    await onTeardown();
  };
  try {
    run = await LifeguardRun.create({
      flavour: setup.flavour, config: (setup.config ?? []).join('\n'),
      ...(setup.mainEnv ? { instanceConfig: { main: `env: ${JSON.stringify(setup.mainEnv)}` } } : {}),
    });
    const provisioned = await provisionRuntime(setup.flavour, run.dir);
    assert.equal(provisioned.code, 0, describeResult(provisioned));
  } catch (error) {
    await teardown();
    throw error;
  }
  const created = run;
  return {
    run: created,
    teardown,
    comeUp: async (deadlineMs) => {
      const up = await created.cli(['up'], 120_000);
      assert.equal(up.code, 0, describeResult(up));
      await created.waitForStatus('both healthy', (s) => instanceOf(s, 'main').state === 'healthy' && instanceOf(s, 'rescue').state === 'healthy', deadlineMs);
    },
    waitForSnapshots: (accept = (snapshots) => snapshots.length > 0) => pollUntil('a snapshot of the main config', async () => {
      const listed = await created.cli(['config', 'snapshots', '--json']);
      const parsed = JSON.parse(listed.stdout) as SnapshotEntry[];
      return accept(parsed) ? parsed : undefined;
    }, { timeoutMs: 60_000, describeLast: () => created.diagnostics() }),
    incident: async (id) => {
      const shown = await created.cli(['incident', 'show', id, '--json']);
      assert.equal(shown.code, 0, describeResult(shown));
      return JSON.parse(shown.stdout) as IncidentRecord;
    },
  };
}

/**
 * A Receiver on 127.0.0.1 and a provisioned LifeguardRun that alerts it: `notify` holds the webhook `hook`
 * (its URL the receiver's `/hook`) and any `moreProviders`, then come the short alert timers, then `config`.
 */
export async function startAlertedRun(setup: AlertedRunSetup): Promise<AlertedRun> {
  const receiver = await Receiver.start();
  if (setup.reply) receiver.reply = setup.reply;
  const hook = `{ type: 'webhook', name: 'hook', url: '${receiver.url('/hook')}' }`;
  const more = setup.moreProviders?.(receiver) ?? [];
  const notify = more.length === 0 ? [`  notify: [${hook}],`] : ['  notify: [', ...[hook, ...more].map((p) => `    ${p},`), '  ],'];
  const base = await startProvisionedRun(
    { flavour: setup.flavour, config: [...notify, SHORT_ALERT_TIMERS, ...(setup.config ?? [])], ...(setup.mainEnv ? { mainEnv: setup.mainEnv } : {}) },
    () => receiver.down(),
  );
  const describeReceived = setup.describeReceived
    ?? (() => `${JSON.stringify(receiver.events().map((e) => [e.event, e.incidentId]))}\n${base.run.diagnostics()}`);
  return {
    ...base,
    receiver,
    waitForEvent: (what, accept, timeoutMs) =>
      pollUntil(what, () => receiver.events().find(accept), { timeoutMs, intervalMs: setup.eventPollMs ?? 100, describeLast: describeReceived }),
  };
}

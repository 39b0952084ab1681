import type { Logger } from 'pino';
import type { Pm2Client, Pm2ExitDetail, Pm2LogEvent, Pm2ProcessEvent } from '../actions/pm2.js';
import type { ProcessIdentity } from '../actions/safe-kill.js';
import { redactText } from '../secrets/redact.js';
import type { DetectorEvent } from '../detector/types.js';
import { readProcStat } from '../host/proc-stat.js';
import type { OperatorActionTracker } from './pm2-events.js';

const ERROR_TAIL_LINES = 40;
/** PM2 statuses on the way to `online` (between crash restarts, `waiting restart` lasts the backoff). */
const TRANSITIONAL_STATUSES = new Set(['launching', 'waiting restart', 'stopping']);

/** One watched PM2 app, as the bridge needs it. */
export interface BridgedApp {
  readonly appName: string;
  readonly dispatch: (event: DetectorEvent) => Promise<void>;
  /** The Gateway token and other secrets to mask in its output lines. */
  readonly secrets: () => readonly string[];
}

/** What PM2 last showed for an app, kept in the status file so a restarted supervisor sees what it missed. */
export interface Pm2Seen {
  readonly pid: number | undefined;
  readonly restarts: number;
}

export interface BridgeDeps {
  readonly pm2: Pm2Client;
  readonly log: Logger;
  readonly now: () => number;
  readonly operatorActions: OperatorActionTracker;
  /** A line for the instance's incident story. */
  readonly note: (appName: string, text: string) => void;
  readonly setEvidence: (appName: string, evidence: { errorOutput: string[]; logTail: string[] }) => void;
  /** The PM2 bus answered: the daemon is alive. */
  readonly heardFromPm2: () => void;
}

/**
 * Turns PM2's bus events and PM2's listing into detector events: exits with their code, signal and last
 * output lines, starts with their pid and start time, and, by comparing PM2's view with its own, anything
 * the bus missed (a reconnect, or the time lifeguard itself was restarting).
 */
export class Pm2Bridge {
  private readonly apps = new Map<string, BridgedApp>();
  private readonly tails = new Map<string, Array<{ stream: 'out' | 'err'; line: string }>>();
  private readonly exitDetails = new Map<string, Pm2ExitDetail>();
  private readonly seen = new Map<string, { pid: number | undefined; restarts: number; startTicks?: number | undefined }>();
  /** What the previous supervisor last saw, until the first reconcile has compared it with PM2. */
  private readonly previous: Map<string, Pm2Seen>;

  constructor(apps: readonly BridgedApp[], private readonly deps: BridgeDeps, previous: ReadonlyMap<string, Pm2Seen> = new Map()) {
    for (const app of apps) this.apps.set(app.appName, app);
    this.previous = new Map(previous);
  }

  /** What PM2 last showed for the app (pid and restart count), for the status file. */
  seenOf(appName: string): Pm2Seen | undefined {
    const seen = this.seen.get(appName);
    return seen ? { pid: seen.pid, restarts: seen.restarts } : undefined;
  }

  /** The process lifeguard may kill for this pid: the one PM2 reported, with the start time it had then. */
  identityOf(appName: string, pid: number): ProcessIdentity {
    const seen = this.seen.get(appName);
    return { pid, startTicks: seen?.pid === pid ? seen.startTicks : undefined };
  }

  onExitDetail(detail: Pm2ExitDetail): void {
    this.exitDetails.set(detail.name, detail);
  }

  onLog(event: Pm2LogEvent): void {
    this.deps.heardFromPm2();
    const app = this.apps.get(event.process.name);
    if (!app) return;
    const lines = this.tails.get(app.appName) ?? [];
    for (const line of event.data.split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
      lines.push({ stream: event.stream, line: redactText(line, app.secrets()).slice(0, 500) });
    }
    this.tails.set(app.appName, lines.slice(-ERROR_TAIL_LINES));
  }

  onProcess(event: Pm2ProcessEvent): void {
    this.deps.heardFromPm2();
    const app = this.apps.get(event.process.name);
    if (!app) return;
    const at = this.deps.now();
    if (event.event === 'exit') {
      const manual = this.deps.operatorActions.exitWasRequested(app.appName, event.process.status);
      const seen = this.seen.get(app.appName);
      const detail = this.exitDetails.get(app.appName);
      const tail = this.tails.get(app.appName) ?? [];
      this.seen.set(app.appName, { pid: undefined, restarts: seen?.restarts ?? 0 });
      this.exitDetails.delete(app.appName);
      this.tails.set(app.appName, []);
      const code = detail?.signal ? null : detail?.code ?? event.process.exit_code ?? null;
      const signal = detail?.signal ?? null;
      const errorOutput = tail.filter((t) => t.stream === 'err').map((t) => t.line);
      this.deps.note(app.appName, `exit of pid ${seen?.pid ?? '?'}: ${signal ? `signal ${signal}` : `code ${code ?? '?'}`}${manual ? ' (requested)' : ''}`);
      this.deps.setEvidence(app.appName, { errorOutput, logTail: tail.map((t) => t.line) });
      void app.dispatch({ type: 'exit', at, pid: seen?.pid, manual, code, signal, output: tail.map((t) => t.line), errorOutput });
    } else if (event.event === 'online') {
      const manual = this.deps.operatorActions.onlineWasRequested(app.appName);
      void this.deps.pm2.describe(app.appName).then(async (described) => {
        if (described?.pid === undefined) return;
        await this.remember(app.appName, described.pid, described.restarts);
        this.deps.note(app.appName, `online, pid ${described.pid}${manual ? ' (requested start)' : ''}`);
        return app.dispatch({ type: 'online', at, pid: described.pid, manual });
      }).catch((error: unknown) => this.deps.log.warn({ err: error }, 'describe after online failed'));
    } else if (event.event === 'restart overlimit') {
      this.deps.operatorActions.noteHeld(app.appName);
      this.deps.note(app.appName, 'PM2 gave up restarting it (restart overlimit)');
      void app.dispatch({ type: 'overlimit', at });
    }
  }

  /**
   * Compares PM2's view with ours and feeds the detector what differs. A pid or restart count that moved
   * while nobody listened (lifeguard restarting, the bus reconnecting) is an exit that happened unseen: it
   * is reported as one, then the new process as started.
   */
  async reconcile(): Promise<void> {
    for (const app of this.apps.values()) {
      const described = await this.deps.pm2.describe(app.appName).catch((error: unknown) => {
        this.deps.log.warn({ err: error }, 'PM2 describe failed');
        return null;
      });
      if (described === null) continue;
      const now = this.deps.now();
      const seen = this.seen.get(app.appName);
      const before = seen ?? this.previous.get(app.appName);
      this.previous.delete(app.appName);
      if (described?.status === 'online' && described.pid !== undefined) {
        if (seen?.pid !== described.pid) {
          // Grace runs from the spawn PM2 saw, so a Gateway hung before lifeguard started is not given a new one.
          const age = described.uptimeSince === undefined ? 0 : Math.max(0, Date.now() - described.uptimeSince);
          const spawnedAt = now - age;
          if (before?.pid !== undefined && before.pid !== described.pid && described.restarts > before.restarts) {
            const missed = `pid ${before.pid} exited while lifeguard was not listening; PM2 restarted it as pid ${described.pid} (restart count ${before.restarts} → ${described.restarts})`;
            this.deps.note(app.appName, missed);
            // It exited before the new process was spawned.
            await app.dispatch({ type: 'exit', at: Math.min(now, spawnedAt - 1), pid: before.pid, manual: false, code: null, signal: null, output: [missed], errorOutput: [] });
          }
          await this.remember(app.appName, described.pid, described.restarts);
          await app.dispatch({ type: 'online', at: spawnedAt, pid: described.pid, manual: false });
        }
      } else if (!TRANSITIONAL_STATUSES.has(described?.status ?? '')) {
        this.seen.set(app.appName, { pid: undefined, restarts: described?.restarts ?? seen?.restarts ?? 0 });
        this.deps.operatorActions.noteHeld(app.appName);
        await app.dispatch({ type: 'not-running', at: now, status: described?.status ?? 'not registered in PM2' });
      }
      await app.dispatch({ type: 'tick', at: now });
    }
  }

  private async remember(appName: string, pid: number, restarts: number): Promise<void> {
    const stat = await readProcStat(pid);
    this.seen.set(appName, { pid, restarts, startTicks: stat?.startTicks });
  }
}

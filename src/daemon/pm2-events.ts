/**
 * PM2 marks neither `exit` nor `online` as manual (its `manually` flag rides on separate stop/restart
 * events that arrive after them). What it does do: a stop or restart it was asked for first sets the
 * app to `stopping`, then emits `exit` twice (`stopping`, then `stopped`); a crash emits one `exit` with
 * `stopped`. This tracker turns that into the detector's notion of an operator action.
 */
export class OperatorActionTracker {
  private readonly stopping = new Set<string>();

  /** True when this exit was asked for (by an operator or by lifeguard), not a crash. */
  exitWasRequested(app: string, statusAtExit: string | undefined): boolean {
    if (statusAtExit === 'stopping') this.stopping.add(app);
    return this.stopping.has(app);
  }

  /** True when this start follows a requested stop or restart. */
  onlineWasRequested(app: string): boolean {
    return this.stopping.delete(app);
  }
}

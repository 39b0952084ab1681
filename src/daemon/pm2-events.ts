/**
 * PM2 marks neither `exit` nor `online` as manual (its `manually` flag rides on separate stop/restart
 * events that arrive after them). What it does do: a stop or restart it was asked for first sets the
 * app to `stopping`, then emits `exit` twice (`stopping`, then `stopped`); a crash emits one `exit` with
 * `stopped`. And PM2 never starts an app by itself once it is stopped or errored. This tracker turns
 * that into the detector's notion of a requested (operator or lifeguard) action.
 */
export class OperatorActionTracker {
  private readonly held = new Set<string>();

  /** lifeguard itself is about to stop the app: the exits that follow are not crashes. */
  expectStop(app: string): void {
    this.held.add(app);
  }

  /** PM2 reports the app stopped or errored: whatever starts it next is a person or lifeguard. */
  noteHeld(app: string): void {
    this.held.add(app);
  }

  /** True when this exit was asked for (by an operator or by lifeguard), not a crash. */
  exitWasRequested(app: string, statusAtExit: string | undefined): boolean {
    if (statusAtExit === 'stopping') this.held.add(app);
    return this.held.has(app);
  }

  /** True when this start follows a requested stop or restart, or an app PM2 had given up on. */
  onlineWasRequested(app: string): boolean {
    return this.held.delete(app);
  }
}

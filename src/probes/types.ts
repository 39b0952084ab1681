/** What one check found. Probes resolve to this and never throw for a failing target. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Short, human-readable; never contains a token. */
  readonly detail: string;
}

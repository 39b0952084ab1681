import type { DiagnoseFacts } from '../../src/surfaces/diagnose.js';

export const CONFIG = '/home/u/.openclaw/openclaw.json';

/** A healthy main under PM2; each case changes what it is about. */
export function facts(change: Partial<DiagnoseFacts> = {}): DiagnoseFacts {
  return {
    instance: 'main',
    configPath: CONFIG,
    startupGraceMs: 180_000,
    probes: { live: true, ready: true, latencyMs: 12, detail: 'hello-ok (protocol 4) and health answered' },
    config: { valid: true, detail: 'valid (checked by gateway-rpc)', issues: [] },
    port: { port: 18789, holders: [{ pid: 4242, command: 'node openclaw.mjs gateway --port 18789', instance: 'main' }] },
    pm2: { reachable: true, status: 'online', pid: 4242, restarts: 0, uptimeMs: 600_000 },
    recentExits: [],
    incident: null,
    snapshots: { count: 2, newest: '20261125T210347Z-3f2a9c1b', matchesCurrent: true },
    logTail: [],
    ...change,
  };
}

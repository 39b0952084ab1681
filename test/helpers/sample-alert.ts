import type { Alert } from '../../src/notify/types.js';

/** A realistic `down` alert; tests override what they are about. */
export function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    event: 'down',
    incidentId: 'inc-20261125-0914-main',
    instance: 'main',
    severity: 'critical',
    summary: 'main Gateway down: health RPC unanswered for 6 s',
    details: { classification: 'hung', reason: 'health timed out 3 times in a row', action: 'restarted through PM2 (1 of 2)' },
    commands: ['npx lifeguard incident show inc-20261125-0914-main', 'npx lifeguard logs main'],
    at: '2026-11-25T09:14:03.120Z',
    idempotencyKey: 'inc-20261125-0914-main:down:1',
    host: 'vps1',
    ...overrides,
  };
}

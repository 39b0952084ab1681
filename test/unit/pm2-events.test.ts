import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorActionTracker } from '../../src/daemon/pm2-events.js';

describe('operator actions from PM2 events', () => {
  it('reads a restart (exit stopping, exit stopped, online) as requested, all three events', () => {
    const tracker = new OperatorActionTracker();
    assert.equal(tracker.exitWasRequested('gateway-main', 'stopping'), true);
    assert.equal(tracker.exitWasRequested('gateway-main', 'stopped'), true);
    assert.equal(tracker.onlineWasRequested('gateway-main'), true);
  });

  it('reads a crash (one exit with stopped) and PM2’s own restart as not requested', () => {
    const tracker = new OperatorActionTracker();
    assert.equal(tracker.exitWasRequested('gateway-main', 'stopped'), false);
    assert.equal(tracker.onlineWasRequested('gateway-main'), false);
  });

  it('forgets the request once the app is online again, and keeps apps apart', () => {
    const tracker = new OperatorActionTracker();
    tracker.exitWasRequested('gateway-rescue', 'stopping');
    assert.equal(tracker.exitWasRequested('gateway-main', 'stopped'), false);
    tracker.onlineWasRequested('gateway-rescue');
    assert.equal(tracker.exitWasRequested('gateway-rescue', 'stopped'), false);
  });
});

describe('stops lifeguard orders, and apps PM2 holds', () => {
  it("treats the exit after lifeguard's own stop as requested, even when PM2 reports it stopped", () => {
    const tracker = new OperatorActionTracker();
    tracker.expectStop('gateway-main');
    assert.equal(tracker.exitWasRequested('gateway-main', 'stopped'), true);
  });

  it('treats the next start of an app PM2 holds stopped or errored as requested (it closes the breaker)', () => {
    const tracker = new OperatorActionTracker();
    tracker.noteHeld('gateway-main');
    assert.equal(tracker.onlineWasRequested('gateway-main'), true);
    assert.equal(tracker.onlineWasRequested('gateway-main'), false, 'only once');
  });
});

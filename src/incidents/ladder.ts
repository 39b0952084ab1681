import type { EngineEffect, EngineSettings, IncidentAction, IncidentCore, Rung, World } from './types.js';

export const RUNG_NAMES: Readonly<Record<Rung, string>> = {
  R0: 'observe',
  R1: 'restart through PM2',
  R2: 'restore the last-known-good config',
  R3: 'hand to the rescue bot',
  R4: 'page a human, automation frozen until ack',
};

type Decision =
  | { readonly type: 'stay' }
  | { readonly type: 'act'; readonly action: IncidentAction; readonly reason: string }
  | { readonly type: 'escalate'; readonly to: Rung; readonly reason: string; readonly frozenFor?: IncidentCore['frozenFor'] };

export interface ClimbResult {
  readonly core: IncidentCore;
  readonly effects: readonly EngineEffect[];
  /** The rung reached R4 in this climb: the caller pages the owner. */
  readonly paged: boolean;
}

/**
 * Moves an open outage up the ladder as far as the world warrants, at most one automated action per
 * call. Pure: the shell carries out the `act` effects and reports what they changed in the next World.
 * The ladder only climbs; an incident never goes back to a rung it left.
 */
export function climb(core: IncidentCore, world: World, settings: EngineSettings): ClimbResult {
  const effects: EngineEffect[] = [];
  let current = reconsider(core, world, effects);
  let paged = false;
  for (let guard = 0; guard < 8; guard += 1) {
    const decision = decide(current, world, settings);
    if (decision.type === 'stay') break;
    if (decision.type === 'act') {
      if (world.actionsLastHour >= settings.maxActionsPerHour) {
        const escalated = escalate(current, 'R4', `${decision.reason}, but the budget of ${settings.maxActionsPerHour} automated actions per hour is used up`, world.at);
        effects.push(...escalated.effects);
        current = escalated.core;
        paged = true;
        break;
      }
      current = {
        ...current,
        attempts: { ...current.attempts, [current.rung]: current.attempts[current.rung] + 1 },
        rungSince: world.at,
        ...(decision.action === 'restore' ? { repairedConfigHash: world.config?.hash } : {}),
      };
      effects.push({ type: 'act', rung: current.rung, action: decision.action, reason: decision.reason });
      break;
    }
    const escalated = escalate(current, decision.to, decision.reason, world.at, decision.frozenFor);
    effects.push(...escalated.effects);
    current = escalated.core;
    if (decision.to === 'R4') {
      paged = true;
      break;
    }
  }
  return { core: current, effects, paged };
}

/** Whether the ladder has anything to do: an outage, not yet back, automation not frozen or paused. */
export function ladderApplies(core: IncidentCore, world: World): boolean {
  const paused = world.pausedUntil !== undefined && world.pausedUntil > world.at;
  return core.problem === 'down' && !core.frozen && !paused && world.health.state !== 'healthy' && core.rung !== 'R4';
}

/**
 * The two ways an incident moves other than up: a rescue that R4 gave up on is healthy now (hand over after
 * all), and a different bad config appeared after R2 repaired one (a new cause gets the repairs again).
 */
function reconsider(core: IncidentCore, world: World, effects: EngineEffect[]): IncidentCore {
  const down = world.health.state !== 'healthy';
  if (core.rung === 'R4' && core.frozen && core.frozenFor === 'rescue-unavailable' && core.ack === undefined && world.rescueUsable && down && !paused(world)) {
    effects.push({ type: 'note', text: 'R4 → R3 (hand to the rescue bot): the rescue Gateway is healthy now' });
    return { ...core, rung: 'R3', rungSince: world.at, frozen: false, frozenFor: undefined, attempts: { ...core.attempts, R3: 0 }, handoffError: undefined };
  }
  const hash = world.config?.hash;
  const newBadConfig = world.config?.valid === false && hash !== undefined && core.attempts.R2 > 0 && hash !== core.repairedConfigHash;
  const ladderWaiting = core.rung === 'R2' || (core.rung === 'R3' && core.lease === undefined);
  if (newBadConfig && ladderWaiting && !core.frozen && down) {
    effects.push({ type: 'note', text: `${core.rung} → R2 (${RUNG_NAMES.R2}): a different bad config than the one restored before` });
    return { ...core, rung: 'R2', rungSince: world.at, attempts: { ...core.attempts, R2: 0, R3: 0 }, handoffError: undefined };
  }
  return core;
}

function paused(world: World): boolean {
  return world.pausedUntil !== undefined && world.pausedUntil > world.at;
}

function decide(core: IncidentCore, world: World, settings: EngineSettings): Decision {
  // The config lifeguard stopped the Gateway for is valid again: nothing else would ever start it.
  if (restartAfterFix(core, world)) return { type: 'act', action: 'restart', reason: 'its config is valid again: starting the Gateway lifeguard stopped' };
  if (!ladderApplies(core, world)) return { type: 'stay' };
  // An owner's (or the rescue agent's) repair is under way: it wins; nothing is escalated meanwhile.
  if (world.repairBy !== undefined) return { type: 'stay' };
  const elapsed = world.at - core.rungSince;
  if (world.budgetSpent && world.health.state === 'down' && core.rung !== 'R3') {
    return { type: 'escalate', to: 'R4', reason: `it is still down and ${world.budgetSpent}` };
  }
  // A Gateway dying of failed network calls is started again by the detector as the network allows
  // (detector/machine.ts): a restore, a handoff or a freeze cannot help, and a freeze would end those starts.
  // When the network took the other Gateway down too, that is the same outage, not a host to page about.
  if (world.health.classification === 'network') return { type: 'stay' };
  if (world.peerDown && world.health.state === 'down') {
    const other = world.instance === 'main' ? 'rescue' : 'main';
    return { type: 'escalate', to: 'R4', reason: `the ${other} Gateway is down too: the host, not the Gateway, is the likely problem` };
  }
  const configBad = world.config?.valid === false || world.health.classification === 'config-invalid';
  switch (core.rung) {
    case 'R0':
      return { type: 'escalate', to: 'R1', reason: 'the Gateway is down' };
    case 'R1': {
      if (configBad) return { type: 'escalate', to: 'R2', reason: 'its config is invalid: restarting into it cannot help' };
      if (world.health.classification === 'crash-looping') return { type: 'escalate', to: 'R2', reason: 'it crash-loops: restarts do not help' };
      if (elapsed >= settings.restartDeadlineMs) {
        return { type: 'escalate', to: 'R2', reason: `not back ${Math.round(settings.restartDeadlineMs / 1000)} s after the restarts began` };
      }
      if (world.health.state !== 'down' || world.processAlive) return { type: 'stay' };
      if (core.attempts.R1 >= settings.restartAttempts) {
        return { type: 'escalate', to: 'R2', reason: `${core.attempts.R1} restarts did not bring it back` };
      }
      return { type: 'act', action: 'restart', reason: 'PM2 is not running it: starting it again' };
    }
    case 'R2': {
      if (core.attempts.R2 > 0 && elapsed < settings.restoreDeadlineMs) return { type: 'stay' };
      const skip = restoreUnavailable(world, configBad);
      if (skip) return { type: 'escalate', to: 'R3', reason: skip };
      if (settings.restoreAttempts === 0) return { type: 'escalate', to: 'R3', reason: 'restoring is switched off (escalation.restoreAttempts: 0)' };
      if (core.attempts.R2 >= settings.restoreAttempts) {
        return { type: 'escalate', to: 'R3', reason: `not healthy ${Math.round(settings.restoreDeadlineMs / 1000)} s after restoring the last-known-good config` };
      }
      const from = world.restoreSource === 'gateway' ? "the Gateway's own last-known-good copy" : "lifeguard's best snapshot";
      return { type: 'act', action: 'restore', reason: `restoring the config from ${from} and restarting` };
    }
    case 'R3':
      return decideHandoff(core, world, settings);
    case 'R4':
      return { type: 'stay' };
  }
}

function decideHandoff(core: IncidentCore, world: World, settings: EngineSettings): Decision {
  if (!settings.handoffAvailable) return { type: 'escalate', to: 'R4', reason: 'R3 (hand to the rescue bot) is switched off' };
  if (world.instance !== 'main') return { type: 'escalate', to: 'R4', reason: 'the rescue is not handed to itself' };
  if (core.handoffError) return { type: 'escalate', to: 'R4', reason: `the handoff to the rescue bot failed: ${core.handoffError}` };
  const lease = core.lease;
  if (!lease) {
    if (core.attempts.R3 > 0) return { type: 'stay' }; // the handoff is under way
    if (!world.rescueUsable) {
      if (world.rescueComing) return { type: 'stay' }; // still inside its start-up grace: it is coming
      return { type: 'escalate', to: 'R4', reason: 'the rescue Gateway is not healthy either', frozenFor: 'rescue-unavailable' };
    }
    return { type: 'act', action: 'handoff', reason: 'handing the main to the rescue bot (incident brief, lease, wake-up)' };
  }
  if (lease.ackedAt === undefined && world.at >= lease.ackBy) {
    return { type: 'escalate', to: 'R4', reason: `the rescue bot did not acknowledge within ${Math.round(settings.ackDeadlineMs / 1000)} s` };
  }
  if (world.at >= lease.until) {
    return { type: 'escalate', to: 'R4', reason: `the rescue bot's lease of ${Math.round(settings.leaseMs / 60_000)} min ran out without a fix` };
  }
  return { type: 'stay' };
}

/** The handoff went through: the rescue holds the main for `leaseMs` and must acknowledge within `ackDeadlineMs`. */
export function grantLease(core: IncidentCore, at: number, settings: Pick<EngineSettings, 'leaseMs' | 'ackDeadlineMs'>): IncidentCore {
  return { ...core, lease: { grantedAt: at, until: at + settings.leaseMs, ackBy: at + settings.ackDeadlineMs }, handoffError: undefined };
}

/** The rescue holds the main now: lifeguard must not act on it. */
export function leaseHeld(core: IncidentCore | undefined, at: number): boolean {
  return core?.status === 'open' && core.lease !== undefined && at < core.lease.until;
}

function restoreUnavailable(world: World, configBad: boolean): string | undefined {
  if (world.restoreSource === undefined) return 'no last-known-good config to restore (no snapshot yet)';
  if (!configBad && !world.configDiffersFromSnapshot) return 'its config is valid and the same as the last-known-good one: restoring cannot help';
  return undefined;
}

/** lifeguard stopped the Gateway for its config, and that config now validates: start it, whatever the rung. */
function restartAfterFix(core: IncidentCore, world: World): boolean {
  const leased = core.lease !== undefined && world.at < core.lease.until;
  return core.status === 'open' && world.stoppedForConfig === true && world.health.state === 'down' && !world.processAlive
    && world.config?.valid === true && world.repairBy === undefined && !paused(world) && !leased;
}

function escalate(core: IncidentCore, to: Rung, reason: string, at: number, frozenFor?: IncidentCore['frozenFor']): { core: IncidentCore; effects: EngineEffect[] } {
  const next: IncidentCore = { ...core, rung: to, rungSince: at, ...(to === 'R4' ? { frozen: true, frozenFor } : {}) };
  return { core: next, effects: [{ type: 'note', text: `${core.rung} → ${to} (${RUNG_NAMES[to]}): ${reason}` }] };
}

import { withTimeline } from './record.js';
import { findOpenIncident, updateIncident } from './store.js';

/**
 * Writes what a person or the rescue agent did (command, who, result) into the open incident of the
 * instance, if there is one; returns its id. Never throws: an audit line must not fail the repair itself.
 */
export async function auditIncident(home: string, instance: string, who: string, text: string, at = Date.now()): Promise<string | undefined> {
  try {
    const open = await findOpenIncident(home, instance);
    if (!open) return undefined;
    await updateIncident(home, open.id, (r) => withTimeline(r, [{ at, kind: 'audit', text: `${who}: ${text}` }]));
    return open.id;
  } catch {
    return undefined;
  }
}

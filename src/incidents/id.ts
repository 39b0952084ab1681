/**
 * The one grammar of incident ids: who the incident is about and when it opened, readable and safe as a
 * file name. `main-20261125-210347Z` is an outage of the main; `rescue.telegram-20261125-210347Z` is a
 * deaf Telegram channel of the rescue (see daemon/channel-watch.ts).
 */
const INCIDENT_ID = /^([a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)?)-(\d{8})-(\d{6})z$/i;

export const INCIDENT_ID_EXAMPLE = 'main-20261125-210347Z';

export function incidentIdFor(subject: string, at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  return `${subject}-${stamp}`;
}

/** The id in its canonical spelling (a phone may capitalise or lower-case it), or undefined for anything else. */
export function canonicalIncidentId(raw: string): string | undefined {
  const match = INCIDENT_ID.exec(raw);
  return match ? `${match[1]!.toLowerCase()}-${match[2]}-${match[3]}Z` : undefined;
}

/** Whether `id` is exactly an incident id as lifeguard writes it (paths, `..` and typos are not). */
export function isIncidentId(id: string): boolean {
  return canonicalIncidentId(id) === id;
}

/** The Gateway an incident is about: `rescue` for `rescue-…` and `rescue.telegram-…`. */
export function gatewayOfIncident(id: string): string {
  return id.slice(0, id.search(/[.-]/));
}

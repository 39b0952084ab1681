/**
 * Port arithmetic of one Gateway, as its docs define it: the base port serves HTTP and WebSocket,
 * browser control sits on base+2 (Clawdbot opens its extension relay next to it, on base+3), the
 * canvas host on base+4, and browser profiles take CDP ports from browser control +9 to +108,
 * i.e. base+11 to base+110.
 */
export const DERIVED_PORT_SPAN = 110;

export interface PortRange {
  readonly role: string;
  readonly first: number;
  readonly last: number;
}

export function derivedPortRanges(basePort: number): PortRange[] {
  return [
    { role: 'gateway (HTTP + WebSocket)', first: basePort, last: basePort },
    { role: 'browser control (base+2)', first: basePort + 2, last: basePort + 2 },
    { role: 'browser extension relay (base+3)', first: basePort + 3, last: basePort + 3 },
    { role: 'canvas host (base+4)', first: basePort + 4, last: basePort + 4 },
    { role: 'browser CDP range (base+11..base+110)', first: basePort + 11, last: basePort + DERIVED_PORT_SPAN },
  ];
}

export function rangesOverlap(a: PortRange, b: PortRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function portInRange(port: number, range: PortRange): boolean {
  return port >= range.first && port <= range.last;
}

export function formatRange(range: PortRange): string {
  return range.first === range.last ? String(range.first) : `${range.first}-${range.last}`;
}

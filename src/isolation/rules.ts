import type { ResolvedInstance } from '../config/instance.js';
import { derivedPortRanges, formatRange, portInRange, rangesOverlap } from './ports.js';

export interface IsolationProblem {
  readonly rule: 'shared-path' | 'shared-port' | 'port-overlap' | 'shared-browser-endpoint' | 'port-taken';
  readonly message: string;
  readonly fix: string;
}

/** Who currently listens on a port: nobody, one of our own Gateways, or a foreign process. */
export type PortHolder =
  | { kind: 'free' }
  | { kind: 'own'; instance: string; pid: number }
  | { kind: 'foreign'; pid?: number; command?: string };

const PATH_KEYS = [
  ['configPath', 'config file', 'configPath'],
  ['stateDir', 'state dir', 'stateDir'],
  ['workspace', 'workspace', 'workspace (or agents.defaults.workspace in its Gateway config)'],
  ['logFile', 'Gateway log file', 'logFile (or logging.file in its Gateway config)'],
] as const;

/** Every rule from the Gateway's multiple-gateways checklist, applied to two instances. Pure. */
export function findIsolationProblems(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const [key, label, setting] of PATH_KEYS) {
    if (a[key] === b[key]) {
      problems.push({
        rule: 'shared-path',
        message: `${a.name} and ${b.name} share the same ${label}: ${a[key]}`,
        fix: `give instances.${b.name}.${setting} its own path`,
      });
    }
  }
  if (a.port === b.port) {
    problems.push({
      rule: 'shared-port',
      message: `${a.name} and ${b.name} both use base port ${a.port}`,
      fix: `set instances.${b.name}.port to a port at least 120 away (e.g. ${a.port + 1000})`,
    });
  } else {
    for (const ra of derivedPortRanges(a.port)) {
      for (const rb of derivedPortRanges(b.port)) {
        if (!rangesOverlap(ra, rb)) continue;
        problems.push({
          rule: 'port-overlap',
          message: `${a.name}'s ${ra.role} ${formatRange(ra)} overlaps ${b.name}'s ${rb.role} ${formatRange(rb)}`,
          fix: `move instances.${b.name}.port at least 120 away from ${a.port} (e.g. ${a.port + 1000})`,
        });
      }
    }
  }
  problems.push(...sharedBrowserEndpoints(a, b), ...endpointsInsidePorts(a, b), ...endpointsInsidePorts(b, a));
  return problems;
}

function sharedBrowserEndpoints(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const ea of a.browserEndpoints) {
    for (const eb of b.browserEndpoints) {
      if (ea.value === eb.value || (ea.port !== undefined && ea.port === eb.port && sameHost(ea.value, eb.value))) {
        problems.push({
          rule: 'shared-browser-endpoint',
          message: `${a.name}'s ${ea.key} (${ea.value}) and ${b.name}'s ${eb.key} (${eb.value}) point at the same browser endpoint`,
          fix: `give ${b.name} its own value for ${eb.key} in ${b.configPath}`,
        });
      }
    }
  }
  return problems;
}

function endpointsInsidePorts(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const ea of a.browserEndpoints) {
    const foreign = derivedPortRanges(b.port).find((range) => ea.port !== undefined && portInRange(ea.port, range));
    if (foreign && ea.port !== undefined) {
      problems.push({
        rule: 'port-overlap',
        message: `${a.name}'s ${ea.key} uses port ${ea.port}, inside ${b.name}'s ${foreign.role} ${formatRange(foreign)}`,
        fix: `pick a port for ${ea.key} in ${a.configPath} outside ${b.name}'s ports`,
      });
    }
  }
  return problems;
}

function sameHost(x: string, y: string): boolean {
  const host = (value: string) => {
    try {
      return new URL(value).hostname;
    } catch {
      return 'localhost';
    }
  };
  const local = (h: string) => ['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0'].includes(h);
  const hx = host(x);
  const hy = host(y);
  return hx === hy || (local(hx) && local(hy));
}

/** Ports the Gateway binds at start (base, browser control, canvas) that a foreign process holds. */
export function findTakenPorts(instance: ResolvedInstance, holders: ReadonlyMap<number, PortHolder>): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const range of derivedPortRanges(instance.port).filter((r) => r.first === r.last)) {
    const holder = holders.get(range.first);
    if (!holder || holder.kind === 'free') continue;
    if (holder.kind === 'own' && holder.instance === instance.name) continue;
    const who = holder.kind === 'own'
      ? `lifeguard's ${holder.instance} Gateway (pid ${holder.pid})`
      : `another process${holder.pid ? ` (pid ${holder.pid}${holder.command ? `: ${holder.command}` : ''})` : ''}`;
    problems.push({
      rule: 'port-taken',
      message: `${instance.name}'s ${range.role} port ${range.first} is already held by ${who}`,
      fix: `stop that process, or set instances.${instance.name}.port to a free base port`,
    });
  }
  return problems;
}

export function formatProblems(problems: readonly IsolationProblem[]): string {
  const lines = problems.map((p) => `- ${p.message}\n  Fix: ${p.fix}.`);
  return `Isolation check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

import type { ResolvedInstance } from '../config/instance.js';
import { derivedPortRanges, formatRange, portInRange, rangesOverlap } from './ports.js';

export interface IsolationProblem {
  readonly rule: 'shared-path' | 'shared-port' | 'port-overlap' | 'shared-endpoint' | 'port-taken' | 'no-token';
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
  ['workspace', 'workspace', 'workspace'],
  ['logFile', 'Gateway log file', 'logFile'],
] as const;

/** Every rule from the Gateway's multiple-gateways checklist, applied to two instances. Pure. */
export function findIsolationProblems(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const [key, label, setting] of PATH_KEYS) {
    if (a[key] === b[key]) {
      problems.push({
        rule: 'shared-path',
        message: `${a.name} and ${b.name} share the same ${label}: ${a[key]}`,
        fix: fixForPath(b, setting),
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
  problems.push(...sharedPinnedEndpoints(a, b), ...endpointsInsidePorts(a, b), ...endpointsInsidePorts(b, a));
  return problems;
}

const GATEWAY_KEYS: Readonly<Record<string, string>> = { workspace: 'agents.defaults.workspace', logFile: 'logging.file' };

function fixForPath(instance: ResolvedInstance, setting: string): string {
  const gatewayKey = GATEWAY_KEYS[setting];
  if (gatewayKey && instance.gatewayConfigExists) return `set ${gatewayKey} in ${instance.configPath} to a path of its own`;
  return `give instances.${instance.name}.${setting} its own path`;
}

/** A Gateway lifeguard cannot authenticate to would look hung forever and be restarted for nothing. */
export function findProbeProblems(instance: ResolvedInstance): IsolationProblem[] {
  if (!instance.gatewayConfigExists || instance.token) return [];
  return [{
    rule: 'no-token',
    message: `${instance.name}'s Gateway config ${instance.configPath} has no usable gateway.auth.token, so no outside client (lifeguard included) can connect to it`,
    fix: `set gateway.auth = { mode: "token", token: "<a long random string>" } in ${instance.configPath}; a \${VAR} token must be defined in instances.${instance.name}.env or ${instance.stateDir}/.env, the only environment the Gateway gets under PM2`,
  }];
}

function sharedPinnedEndpoints(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const ea of a.pinnedEndpoints) {
    for (const eb of b.pinnedEndpoints) {
      if (ea.value === eb.value || (ea.port !== undefined && ea.port === eb.port && sameHost(ea.value, eb.value))) {
        problems.push({
          rule: 'shared-endpoint',
          message: `${a.name}'s ${ea.key} (${ea.value}) and ${b.name}'s ${eb.key} (${eb.value}) pin the same port or URL`,
          fix: `give ${b.name} its own value for ${eb.key} in ${b.configPath}`,
        });
      }
    }
  }
  return problems;
}

function endpointsInsidePorts(a: ResolvedInstance, b: ResolvedInstance): IsolationProblem[] {
  const problems: IsolationProblem[] = [];
  for (const ea of a.pinnedEndpoints) {
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
  return `Pre-start check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

import { errorMessage } from '../core/errors.js';
import { canonicalIncidentId, gatewayOfIncident, INCIDENT_ID_EXAMPLE } from '../incidents/id.js';
import { parsePauseLength } from '../incidents/pauses.js';
import { SNAPSHOT_ID_PATTERN } from '../snapshots/store.js';
import { SUBCOMMANDS, chat, type SubcommandName } from './commands.js';

/** What a `/lifeguard ...` message asks for, once it has been understood. */
export type ChatRequest =
  | { readonly kind: 'help' }
  | { readonly kind: 'status' }
  | { readonly kind: 'diagnose'; readonly instance: 'main' | 'rescue' }
  | { readonly kind: 'incidents' }
  | { readonly kind: 'incident'; readonly id: string }
  | { readonly kind: 'ack'; readonly id: string }
  | { readonly kind: 'resolve'; readonly id: string }
  | { readonly kind: 'restore'; readonly snapshotId: string | undefined }
  | { readonly kind: 'restart'; readonly instance: 'main' }
  | { readonly kind: 'pause'; readonly instance: 'main'; readonly duration: string }
  | { readonly kind: 'resume'; readonly instance: 'main' };

export type ParseResult =
  | { readonly ok: true; readonly request: ChatRequest }
  /** Says why, and what to send instead. */
  | { readonly ok: false; readonly refusal: string; readonly words: string };

const WRITES = new Set<string>(SUBCOMMANDS.filter((s) => s.write).map((s) => s.name));

/** Changes state: only the owner may. */
export function isWrite(request: ChatRequest): boolean {
  return WRITES.has(request.kind);
}

/** The request as the owner would type it, for replies and the audit line. */
export function commandText(request: ChatRequest): string {
  switch (request.kind) {
    case 'diagnose': return chat(`diagnose${request.instance === 'main' ? '' : ` ${request.instance}`}`);
    case 'incident': case 'ack': case 'resolve': return chat(`${request.kind} ${request.id}`);
    case 'restore': return chat(`restore${request.snapshotId ? ` --id ${request.snapshotId}` : ''}`);
    case 'restart': case 'resume': return chat(`${request.kind} ${request.instance}`);
    case 'pause': return chat(`pause ${request.instance} ${request.duration}`);
    default: return chat(request.kind);
  }
}

/** The instance a request is about: its own, the one its incident id names, else the main. */
export function instanceOf(request: ChatRequest): 'main' | 'rescue' {
  if ('instance' in request) return request.instance;
  if ('id' in request && gatewayOfIncident(request.id) === 'rescue') return 'rescue';
  return 'main';
}

class Refusal extends Error {}

const HELP_HINT = `Send ${chat('help')} for the list.`;
const SNAPSHOT_ID = /^(\d{8})t(\d{6})z-([0-9a-f]{8})$/i;

/**
 * Parses the words after `/lifeguard`. Forgiving where a phone gets in the way (a capitalised first word,
 * an em dash for `--`, `Z` typed as `z`), strict about everything that names a thing to change.
 */
export function parseChatCommand(args: string | undefined): ParseResult {
  const words = (args ?? '').trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/^[\u2013\u2014]+/, '--'));
  try {
    return { ok: true, request: parseWords(words) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, refusal: error.message, words: words.join(' ') };
    throw error;
  }
}

function parseWords(words: readonly string[]): ChatRequest {
  const [first, ...rest] = words;
  const name = (first ?? 'help').toLowerCase();
  switch (name) {
    case 'help': case '?': return { kind: 'help' };
    case 'status': return none(rest, 'status', { kind: 'status' });
    case 'incidents': return none(rest, 'incidents', { kind: 'incidents' });
    case 'diagnose': {
      const [instance, ...more] = rest;
      const which = (instance ?? 'main').toLowerCase();
      if (which !== 'main' && which !== 'rescue') throw new Refusal(`There is no "${instance}" Gateway. Send ${chat('diagnose')} for the main.`);
      return none(more, 'diagnose', { kind: 'diagnose', instance: which });
    }
    case 'incident': case 'show': {
      // `incident show|ack|resolve <id>`, as alerts and the CLI spell it, works too.
      const [sub, ...more] = rest;
      const verb = sub?.toLowerCase();
      if (verb === 'show' || verb === 'ack' || verb === 'resolve') return withId(verb === 'show' ? 'incident' : verb, more);
      return withId('incident', rest);
    }
    case 'ack': case 'resolve': return withId(name, rest);
    case 'restore': return parseRestore(rest);
    case 'restart': return parseRestart(rest);
    case 'pause': return parsePause(rest);
    case 'resume': {
      const [instance, ...more] = rest;
      mainOnly(instance, 'resume', chat('resume main'));
      return none(more, 'resume', { kind: 'resume', instance: 'main' });
    }
    default:
      throw new Refusal(`Unknown command "${first}". ${HELP_HINT}`);
  }
}

function usageOf(name: SubcommandName): string {
  return chat(SUBCOMMANDS.find((s) => s.name === name)!.usage);
}

function none<T extends ChatRequest>(rest: readonly string[], name: SubcommandName, request: T): T {
  if (rest.length > 0) throw new Refusal(`"${rest.join(' ')}" is too much: send ${usageOf(name)}`);
  return request;
}

function mainOnly(instance: string | undefined, verb: string, instead: string): void {
  const which = instance?.toLowerCase();
  if (which === undefined || which === 'main') return;
  if (which === 'rescue') throw new Refusal(`The rescue cannot ${verb} itself from its own chat. Send ${instead}, or on the machine: lifeguard ${verb} rescue`);
  throw new Refusal(`There is no "${instance}" Gateway. Send ${instead}`);
}

function withId(kind: 'incident' | 'ack' | 'resolve', rest: readonly string[]): ChatRequest {
  const [raw, ...more] = rest;
  if (raw === undefined) throw new Refusal(`Which incident? Send ${chat(`${kind} <id>`)}; ${chat('incidents')} lists the ids.`);
  const id = canonicalIncidentId(raw);
  if (id === undefined || !['main', 'rescue'].includes(gatewayOfIncident(id))) {
    throw new Refusal(`"${raw}" is not an incident id (they look like ${INCIDENT_ID_EXAMPLE}). Send ${chat('incidents')} to see them.`);
  }
  return none(more, kind, { kind, id });
}

function parseRestore(rest: readonly string[]): ChatRequest {
  const which = rest[0]?.toLowerCase();
  if (which === 'rescue') throw new Refusal(`Only the main's config is kept as snapshots. Send ${chat('restore')}`);
  const words = which === 'main' ? rest.slice(1) : rest;
  const [option, ...more] = words;
  if (option === '--id' || option?.startsWith('--id=')) {
    const value = option === '--id' ? more[0] : option.slice('--id='.length);
    if (!value) throw new Refusal(`Which snapshot? Send ${chat('restore --id 20261125T210347Z-3f2a9c1b')}, or ${chat('restore')} for the newest.`);
    return none(option === '--id' ? more.slice(1) : more, 'restore', { kind: 'restore', snapshotId: snapshotId(value) });
  }
  if (option?.startsWith('-')) throw new Refusal(`Unknown option "${option}". Send ${usageOf('restore')}`);
  // A bare snapshot id is what a phone user will type.
  if (option !== undefined) return none(more, 'restore', { kind: 'restore', snapshotId: snapshotId(option) });
  return { kind: 'restore', snapshotId: undefined };
}

function snapshotId(raw: string): string {
  const match = SNAPSHOT_ID.exec(raw);
  const id = match ? `${match[1]}T${match[2]}Z-${match[3]!.toLowerCase()}` : raw;
  if (!SNAPSHOT_ID_PATTERN.test(id)) {
    throw new Refusal(`"${raw}" is not a snapshot id (they look like 20261125T210347Z-3f2a9c1b). Send ${chat('restore')} for the newest; ${chat('diagnose')} names it.`);
  }
  return id;
}

function parseRestart(rest: readonly string[]): ChatRequest {
  const [instance, ...more] = rest;
  if (instance === undefined) throw new Refusal(`Restart what? Send ${chat('restart main')}`);
  mainOnly(instance, 'restart', chat('restart main'));
  if (more.some((w) => w.toLowerCase() === '--force')) {
    throw new Refusal(`--force is not offered in chat: lifeguard never restarts the main into a config it knows is invalid. Send ${chat('restore')}, then ${chat('restart main')}`);
  }
  return none(more, 'restart', { kind: 'restart', instance: 'main' });
}

function parsePause(rest: readonly string[]): ChatRequest {
  let words = [...rest];
  // `pause 30m` means the main: it is the only one paused from here.
  if (words[0] !== undefined && !/^\d/.test(words[0])) {
    mainOnly(words[0], 'pause', chat('pause main 30m'));
    words = words.slice(1);
  }
  const [duration, ...more] = words;
  if (duration === undefined) throw new Refusal(`For how long? Send ${chat('pause main 30m')} (1m to 7d).`);
  try {
    parsePauseLength(duration);
  } catch (error) {
    throw new Refusal(`${capitalise(errorMessage(error))}. Send ${chat('pause main 30m')} (1m to 7d).`);
  }
  return none(more, 'pause', { kind: 'pause', instance: 'main', duration: duration.toLowerCase() });
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

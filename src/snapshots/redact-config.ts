import { maskSecretValues } from '../secrets/redact.js';
import {
  childMode, ENV_REFERENCE, ENV_REFERENCES, isSecretKey, redactInlineSecrets, REDACTED, REDACTED_CHANGED, type SecretMode,
} from '../secrets/vocabulary.js';

/**
 * Hides the secrets of a Gateway config (tokens, passwords, API keys, env values, header values,
 * credentials in URLs) so a config, or a diff of two, can be shown, logged or sent in an alert. What
 * is secret is decided by the one vocabulary of `secrets/vocabulary.ts`.
 *
 * Secrets become a fixed marker, never a hash: even a short hash lets a reader test guesses and see
 * which fields share a value. What a diff needs, "this secret changed", is told by a second marker,
 * decided by comparing with the other config at the same path.
 */

export { REDACTED, REDACTED_CHANGED };

/** A deep copy of a parsed config with every secret replaced by {@link REDACTED}. */
export function redactConfig(value: unknown): unknown {
  return redactPair(value, undefined).redacted;
}

export interface RedactedPair {
  readonly redacted: unknown;
  /** How many secrets hold another value than at the same path of `previous`. */
  readonly changedSecrets: number;
}

/**
 * Like {@link redactConfig}, but a secret whose value differs from the one at the same path of
 * `previous` (the other side of a diff) becomes {@link REDACTED_CHANGED}.
 */
export function redactPair(value: unknown, previous: unknown): RedactedPair {
  const walk: Walk = { secrets: new Set(), changedSecrets: 0, references: new Set() };
  const redacted = redactNode(value, previous, 'plain', walk);
  return { redacted, changedSecrets: walk.changedSecrets };
}

/**
 * Every secret string in a parsed config, to mask wherever free text (logs, stderr) repeats one; a
 * `${VAR}` in a secret place, or naming a secret-like variable, is resolved from `env` as the Gateway would.
 */
export function secretValuesOf(value: unknown, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const walk: Walk = { secrets: new Set(), changedSecrets: 0, references: new Set() };
  redactNode(value, undefined, 'plain', walk);
  for (const name of walk.references) {
    const resolved = env[name];
    if (resolved) walk.secrets.add(resolved);
  }
  return [...walk.secrets];
}

interface Walk {
  readonly secrets: Set<string>;
  changedSecrets: number;
  /** Variables whose values are secrets wherever they are substituted. */
  readonly references: Set<string>;
}


function noteReferences(text: string, secret: boolean, walk: Walk): void {
  for (const [, name] of text.matchAll(ENV_REFERENCES)) if (secret || isSecretKey(name!)) walk.references.add(name!);
}

function redactNode(value: unknown, previous: unknown, mode: SecretMode, walk: Walk): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => redactNode(item, Array.isArray(previous) ? previous[index] : undefined, mode, walk));
  }
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [
      key,
      redactNode(child, isRecord(previous) && Object.hasOwn(previous, key) ? previous[key] : undefined, childMode(mode, key, child), walk),
    ]));
  }
  const secret = mode === 'secret';
  if (typeof value === 'string') noteReferences(value, secret, walk);
  const scalar = typeof value === 'string' || typeof value === 'number';
  if (secret && scalar && !ENV_REFERENCE.test(String(value))) {
    walk.secrets.add(String(value));
    const changed = previous !== undefined && previous !== value;
    if (changed) walk.changedSecrets += 1;
    return changed ? REDACTED_CHANGED : REDACTED;
  }
  if (typeof value === 'string') return redactStringValue(value, previous, walk);
  return value;
}

/** A string outside secret keys can still embed one: `wss://user:pass@host`, `?token=…`, an `sk-…` key. */
function redactStringValue(value: string, previous: unknown, walk: Walk): string {
  const redacted = redactInlineSecrets(value, REDACTED, walk.secrets);
  if (redacted === value) return value;
  const onlySecretsDiffer = typeof previous === 'string' && previous !== value
    && redactInlineSecrets(previous, REDACTED) === redacted;
  if (!onlySecretsDiffer) return redacted;
  walk.changedSecrets += 1;
  return redactInlineSecrets(value, REDACTED_CHANGED);
}

/**
 * For a config that does not parse: a forgiving JSON5 scanner that follows keys and nesting as far as
 * the text allows (a missing colon or comma, an unterminated string ending at its line), and hides
 * what {@link redactConfig} would, plus every `knownSecrets` wherever it appears: pass the secrets of
 * the last good config, the broken file may repeat them where no key announces them. Quotes and line
 * breaks stay as they were, so the syntax error is still visible and line numbers still match.
 */
export function redactConfigText(text: string, knownSecrets: readonly string[] = []): string {
  const found = new Set<string>();
  const redacted = redactStructure(text, found);
  return maskSecretValues(redacted, [...knownSecrets, ...found]);
}

/** Every value {@link redactConfigText} hides by its key or shape. */
export function secretValuesOfText(text: string): string[] {
  const found = new Set<string>();
  redactStructure(text, found);
  return [...found];
}

interface Frame {
  readonly kind: '{' | '[';
  readonly mode: SecretMode;
  /** In an object: the key whose value comes next, once read. */
  key: string | undefined;
}

const COMMENT = /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/y;
/** A string ends at its closing quote or, unterminated, at the end of its line. */
const STRING = /(["'])((?:(?!\1)[^\\\n]|\\[\s\S])*)(\1?)/y;
const BARE = /(?:[^\s,:{}[\]"'/]|\/(?![/*]))+/y;
const LITERALS = new Set(['true', 'false', 'null']);

function redactStructure(text: string, found: Set<string>): string {
  const out: string[] = [];
  const frames: Frame[] = [];
  let at = 0;
  const take = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match) at = pattern.lastIndex;
    return match;
  };
  while (at < text.length) {
    const frame = frames.at(-1);
    const comment = take(COMMENT);
    if (comment) {
      out.push(redactInlineSecrets(comment[0], REDACTED, found));
      continue;
    }
    const token = take(STRING) ?? take(BARE);
    if (token) {
      out.push(redactToken(token, frame, found));
      continue;
    }
    const char = text.charAt(at);
    at += 1;
    if (char === '{' || char === '[') {
      frames.push({ kind: char, mode: valueMode(frame, false), key: undefined });
      if (frame) frame.key = undefined;
    } else if (char === '}' || char === ']') {
      frames.pop();
    } else if (char === ',' && frame) {
      frame.key = undefined;
    }
    out.push(char);
  }
  return out.join('');
}

/** A string (quote, inner text, closing quote if any) or a bare word, as a key or as a value. */
function redactToken(token: RegExpExecArray, frame: Frame | undefined, found: Set<string>): string {
  const [text, quote = '', inner = text, closing = ''] = token;
  if (frame?.kind === '{' && frame.key === undefined) {
    // In an object a token is a key until one is read, colon or not: `token "abc"` still hides "abc".
    frame.key = inner;
    return text;
  }
  const hidden = valueMode(frame, true) === 'secret' && !(quote === '' && LITERALS.has(inner)) && !ENV_REFERENCE.test(inner);
  if (frame) frame.key = undefined;
  if (!hidden) return `${quote}${redactInlineSecrets(inner, REDACTED, found)}${closing}`;
  found.add(inner);
  // The value's own line breaks (a `\`-continued string) are kept so that lines still line up.
  return `${quote}${REDACTED}${'\\\n'.repeat(newlines(inner))}${closing}`;
}

/** How the next value of `frame` is treated: a scalar or, with `scalar` false, a nested map or list. */
function valueMode(frame: Frame | undefined, scalar: boolean): SecretMode {
  if (!frame) return 'plain';
  if (frame.kind === '[' || frame.key === undefined) return frame.mode === 'headers' ? 'plain' : frame.mode;
  return childMode(frame.mode, frame.key, scalar ? '' : {});
}

function newlines(text: string): number {
  return text.split('\n').length - 1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

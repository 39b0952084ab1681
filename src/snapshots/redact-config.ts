import { redactText } from '../core/log.js';

/**
 * Hides the secrets of a Gateway config (tokens, passwords, API keys, env values, credentials in URLs)
 * so a config, or a diff of two, can be shown, logged or sent in an alert.
 *
 * Secrets become a fixed marker, never a hash: even a short hash lets a reader test guesses and see
 * which fields share a value. What a diff needs, "this secret changed", is told by a second marker,
 * decided by comparing with the other config at the same path.
 */

export const REDACTED = '[redacted]';
export const REDACTED_CHANGED = '[redacted, changed]';

/**
 * A key is secret when its last word is one of these (`botToken`, `OPENAI_API_KEY`, `signing_secret`,
 * `x-api-key`). Whole words, so `keyboard`, `tokenizer` and `maxTokens` stay visible. `env` maps
 * (top-level `env`, `skills.entries.*.env`) hold environment variables, all treated as secrets.
 */
const SECRET_WORDS = new Set([
  'token', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'pass', 'pwd', 'passphrase',
  'key', 'keys', 'apikey', 'credential', 'credentials', 'authorization', 'cookie', 'signature', 'sig', 'env',
]);

/** `${NAME}` is substituted by the Gateway from its environment: the name is no secret and worth seeing. */
const ENV_REFERENCE = /^\$\{[A-Z0-9_]+\}$/;

/** Secrets shorter than this are not searched for in free text: they would match ordinary words. */
const MIN_MASKED_LENGTH = 6;

function isSecretKey(key: string): boolean {
  const words = keyWords(key);
  const last = words.at(-1);
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  // A bare `tokens` list holds tokens; `maxTokens` and `contextTokens` are counts.
  if (words.length === 1 && last === 'tokens') return true;
  // Slack and Discord webhook URLs carry their secret in the path.
  return words.includes('webhook') && (last === 'url' || last === 'uri');
}

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

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
  const walk: Walk = { secrets: new Set(), changedSecrets: 0 };
  const redacted = redactNode(value, previous, false, walk);
  return { redacted, changedSecrets: walk.changedSecrets };
}

/** Every secret string in a parsed config, to mask wherever free text (logs, stderr) repeats one. */
export function secretValuesOf(value: unknown): string[] {
  const walk: Walk = { secrets: new Set(), changedSecrets: 0 };
  redactNode(value, undefined, false, walk);
  return [...walk.secrets];
}

interface Walk {
  readonly secrets: Set<string>;
  changedSecrets: number;
}

function redactNode(value: unknown, previous: unknown, secret: boolean, walk: Walk): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => redactNode(item, Array.isArray(previous) ? previous[index] : undefined, secret, walk));
  }
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [
      key,
      redactNode(child, isRecord(previous) && Object.hasOwn(previous, key) ? previous[key] : undefined, secret || isSecretKey(key), walk),
    ]));
  }
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
    && redactInlineSecrets(previous, REDACTED, new Set()) === redacted;
  if (!onlySecretsDiffer) return redacted;
  walk.changedSecrets += 1;
  return redactInlineSecrets(value, REDACTED_CHANGED, new Set());
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"']+)@/gi;
const QUERY_PARAM = /([?&])([^=&\s"'#]+)=([^&\s"'#]+)/g;
/** Credential formats recognisable by their shape wherever they appear. */
const TOKEN_SHAPES = [
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI, Anthropic (sk-ant-), OpenRouter (sk-or-)
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack bot and user tokens
  /\bxapp-[A-Za-z0-9-]{10,}/g, // Slack app-level tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}/g, // Telegram bot token
  /\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}/g, // JWTs, Discord bot tokens
  /(?<=\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Replaces credentials embedded in a string by `marker`, adding each to `found`. */
function redactInlineSecrets(text: string, marker: string, found: Set<string>): string {
  let out = text.replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    // The user alone may be the token (https://TOKEN@host); with a password only the password is secret.
    found.add(colon < 0 ? userinfo : userinfo.slice(colon + 1));
    return `${scheme}${marker}@`;
  });
  out = out.replace(QUERY_PARAM, (match, separator: string, name: string, value: string) => {
    if (!isSecretKey(name)) return match;
    found.add(value);
    return `${separator}${name}=${marker}`;
  });
  for (const shape of TOKEN_SHAPES) {
    out = out.replace(shape, (match) => {
      found.add(match);
      return marker;
    });
  }
  return out;
}

/** Replaces every occurrence of a known secret (and its JSON-escaped form) in free text. */
export function maskSecretValues(text: string, secrets: Iterable<string>): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_MASKED_LENGTH || REDACTED_CHANGED.includes(secret)) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is masked whole; its line breaks stay.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join(`${REDACTED}${'\n'.repeat(newlines(form))}`);
  return out;
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
  readonly secret: boolean;
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
      out.push(redactInlineSecrets(redactText(comment[0]), REDACTED, found));
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
      frames.push({ kind: char, secret: valueIsSecret(frame), key: undefined });
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
  const hidden = valueIsSecret(frame) && !(quote === '' && LITERALS.has(inner)) && !ENV_REFERENCE.test(inner);
  if (frame) frame.key = undefined;
  if (!hidden) return `${quote}${redactInlineSecrets(inner, REDACTED, found)}${closing}`;
  found.add(inner);
  // The value's own line breaks (a `\`-continued string) are kept so that lines still line up.
  return `${quote}${REDACTED}${'\\\n'.repeat(newlines(inner))}${closing}`;
}

function valueIsSecret(frame: Frame | undefined): boolean {
  if (!frame) return false;
  return frame.secret || (frame.kind === '{' && frame.key !== undefined && isSecretKey(frame.key));
}

function newlines(text: string): number {
  return text.split('\n').length - 1;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

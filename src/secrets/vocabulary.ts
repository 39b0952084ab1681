/**
 * The one vocabulary of what is secret, shared by the config redactor, the registry of known secrets
 * and the free-text redactor (logs, alerts, records, outputs, replies).
 */

export const REDACTED = '[redacted]';
export const REDACTED_CHANGED = '[redacted, changed]';

/**
 * A key is secret when its last word is one of these (`botToken`, `OPENAI_API_KEY`, `signing_secret`,
 * `x-api-key`). Whole words, so `keyboard`, `tokenizer` and `maxTokens` stay visible.
 */
const SECRET_WORDS = new Set([
  'token', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'pass', 'pwd', 'passphrase',
  'apikey', 'credential', 'credentials', 'authorization', 'cookie', 'signature', 'sig', 'webhook',
]);

/** `env: { … }` holds environment variables, all secret; `NODE_ENV: "production"` names none. */
const MAP_SECRET_WORDS = new Set(['env']);

/**
 * `key` alone or after one of these words is a credential (`apiKey`, `x-api-key`, `privateKey`); after
 * others it names something else (`idempotencyKey`, `sessionKey`, `primaryKey`).
 */
const KEY_QUALIFIERS = new Set([
  'api', 'secret', 'private', 'access', 'signing', 'client', 'auth', 'encryption', 'master', 'license',
  'app', 'service', 'account', 'subscription', 'bot', 'webhook', 'openai', 'anthropic', 'gemini', 'google',
  'groq', 'mistral', 'openrouter', 'xai', 'deepseek', 'azure', 'aws', 'brave', 'elevenlabs', 'cohere',
]);

/** `auth: "user:pass"` is a credential; `auth: { mode, token }` is a section whose own keys decide. */
const SCALAR_SECRET_WORDS = new Set(['auth']);

/**
 * Values under a `headers` map are secret (`X-Custom-Auth`, `Authorization`), except these, which only
 * describe the body and would otherwise be masked wherever the words appear.
 */
const PLAIN_HEADERS = new Set(['content-type', 'accept', 'user-agent', 'content-length', 'accept-encoding', 'content-encoding']);

/** Keys whose whole value (scalar, list or map) is secret. */
export function isSecretKey(key: string, scalar = true): boolean {
  const words = keyWords(key);
  const last = words.at(-1);
  if (last === undefined) return false;
  if (SECRET_WORDS.has(last)) return true;
  if (scalar && SCALAR_SECRET_WORDS.has(last)) return true;
  if (!scalar && MAP_SECRET_WORDS.has(last)) return true;
  if (last === 'key' || last === 'keys') return words.length === 1 || KEY_QUALIFIERS.has(words.at(-2)!);
  // A bare `tokens` list holds tokens; `maxTokens` and `contextTokens` are counts.
  if (words.length === 1 && last === 'tokens') return true;
  // Slack and Discord webhook URLs carry their secret in the path.
  return words.includes('webhook') && (last === 'url' || last === 'uri' || last === 'urls');
}

/** A map whose values are all secret but its keys are not (`headers`). */
export function isSecretMapKey(key: string): boolean {
  return keyWords(key).at(-1) === 'headers';
}

export function isPlainHeader(name: string): boolean {
  return PLAIN_HEADERS.has(name.toLowerCase());
}

/** How a value is treated: `secret` hides everything below; `headers` is a map whose values are, bar plain headers. */
export type SecretMode = 'plain' | 'secret' | 'headers';

/** The mode of the value under `key` in a map of mode `mode`; `child` tells a scalar from a map or list. */
export function childMode(mode: SecretMode, key: string, child: unknown): SecretMode {
  if (mode === 'secret') return 'secret';
  if (mode === 'headers') return isPlainHeader(key) ? 'plain' : 'secret';
  if (isSecretMapKey(key)) return 'headers';
  return isSecretKey(key, child === null || typeof child !== 'object') ? 'secret' : 'plain';
}

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** `${NAME}` is substituted by the Gateway from its environment: the name is no secret and worth seeing. */
export const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
/** Every `${NAME}` in a string. */
export const ENV_REFERENCES = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Secrets shorter than this are not searched for in free text: they would match ordinary words. */
export const MIN_MASKED_LENGTH = 6;

/**
 * A value that looks generated (long, no spaces, letters and digits mixed): an environment variable
 * holding one is treated as a secret whatever its name.
 */
export function looksGenerated(value: string): boolean {
  return value.length >= 16 && !/\s/.test(value) && /[A-Za-z]/.test(value) && /\d/.test(value) && !/^[./~]|^[a-z]+:\/\/[^@]*$/i.test(value);
}

/** The secret values of an environment: secret-named variables and generated-looking values. */
export function secretEnvValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && (isSecretKey(entry[0]) || looksGenerated(entry[1])))
    .map(([, value]) => value);
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'\\]+)@/gi;
const QUERY_PARAM = /([?&])([^=&\s"'#\\]+)=([^&\s"'#\\]+)/g;
/** Webhook URLs whose path is the credential: the host stays visible. */
const WEBHOOK_PATHS = [
  /(\bhttps?:\/\/hooks\.slack\.com\/(?:services\/|workflows\/|triggers\/)?)[^\s"'\\<>]+/gi,
  /(\bhttps?:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/webhooks\/)[^\s"'\\<>]+/gi,
  /(\bhttps?:\/\/[a-z0-9.-]*office\.com\/webhook[a-z]*\/)[^\s"'\\<>]+/gi,
  /(\bhttps?:\/\/hc-ping\.com\/)[^\s"'\\<>]+/gi,
];
/** Telegram's Bot API puts the token in the path: `/bot<token>/getUpdates`. */
const BOT_PATH = /(\/bot)\d+:[^/\s"'?#\\]+/g;
/** Credential formats recognisable by their shape wherever they appear. */
const TOKEN_SHAPES = [
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI (sk-proj-), Anthropic (sk-ant-), OpenRouter (sk-or-)
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, // Slack bot and user tokens
  /\bxapp-[A-Za-z0-9-]{10,}/g, // Slack app-level tokens
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key id
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}/g, // Telegram bot token
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.?[A-Za-z0-9_-]*/g, // JWTs
  /\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}/g, // Discord bot tokens
];
/** `Bearer <credential>`: the whole credential after the space. */
const SCHEME_CREDENTIAL = /\b(Bearer|Basic|Token|Bot)(\s+)(?!\[redacted)[A-Za-z0-9._~+/=:-]{8,}/g;

/**
 * `name: value`, `name=value`, `"name": "value"` (also JSON-escaped inside a log line): the value is
 * hidden when the name is secret. Quoted values end at their quote, bare ones at a separator.
 */
const KEY_VALUE = /(?<![A-Za-z0-9_.-])(\\?["']?)([A-Za-z_][A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(?:(\\?")((?:[^"\\\n]|\\[^"\n])*)\4|(')([^'\n]*)'|([^\s,;{}[\]"'\\]+))/g;
/** After `Authorization:`, `Cookie:` or `X-Custom-Auth:` the value (`Bearer eyJ…`) runs to the end of the line. */
const REST_OF_LINE = /(?<![A-Za-z0-9_.-])((?:[A-Za-z]+-)*(?:authorization|cookie)|(?:[A-Za-z]+-)+auth)([ \t]*[:=][ \t]*)(?!\[redacted|\\?")([^\s"'\\][^\n"'\\]*)/gi;
const LITERALS = new Set(['true', 'false', 'null', 'undefined', 'none', 'set', 'unset', 'missing']);

/**
 * Replaces credentials recognisable by shape or by a secret name before them with `marker`, adding
 * each to `found` (when given). Applied to every string lifeguard writes, shows or sends.
 */
export function redactInlineSecrets(text: string, marker: string = REDACTED, found?: Set<string>): string {
  const keep = (value: string) => found?.add(value);
  let out = text.replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    // The user alone may be the token (https://TOKEN@host); with a password only the password is secret.
    keep(colon < 0 ? userinfo : userinfo.slice(colon + 1));
    return `${scheme}${colon < 0 ? '' : `${userinfo.slice(0, colon)}:`}${marker}@`;
  });
  out = out.replace(QUERY_PARAM, (match, separator: string, name: string, value: string) => {
    if (!isSecretKey(name) || value.startsWith('[redacted')) return match;
    keep(value);
    return `${separator}${name}=${marker}`;
  });
  for (const webhook of WEBHOOK_PATHS) {
    out = out.replace(webhook, (match, origin: string) => {
      keep(match.slice(origin.length));
      return `${origin}${marker}`;
    });
  }
  out = out.replace(BOT_PATH, (match, prefix: string) => {
    keep(match.slice(prefix.length));
    return `${prefix}${marker}`;
  });
  for (const shape of TOKEN_SHAPES) {
    out = out.replace(shape, (match) => {
      keep(match);
      return marker;
    });
  }
  out = out.replace(SCHEME_CREDENTIAL, (match, scheme: string, space: string) => {
    keep(match.slice(scheme.length + space.length));
    return `${scheme}${space}${marker}`;
  });
  return redactKeyValues(out, marker, keep);
}

function redactKeyValues(text: string, marker: string, keep: (value: string) => void): string {
  const out = text.replace(REST_OF_LINE, (match: string, name: string, separator: string, value: string) => {
    if (value.trim() === '' || LITERALS.has(value.trim().toLowerCase())) return match;
    keep(value.trim());
    return `${name}${separator}${marker}`;
  });
  return out.replace(KEY_VALUE, (match: string, open: string, name: string, separator: string, dq?: string, dqValue?: string, sq?: string, sqValue?: string, bare?: string) => {
    // In prose `key` alone ("Unrecognized key: x") and `auth` (a config path) name no credential.
    if (!isSecretKey(name, false) || /^keys?$/i.test(name)) return match;
    const value = dqValue ?? sqValue ?? bare!;
    if (value === '' || value.startsWith('[redacted') || ENV_REFERENCE.test(value)) return match;
    if (bare !== undefined && (LITERALS.has(value.toLowerCase()) || /^\d{1,5}$/.test(value))) return match;
    keep(value);
    const quote = dq ?? (sq !== undefined ? "'" : '');
    return `${open}${name}${open}${separator}${quote}${marker}${quote}`;
  });
}

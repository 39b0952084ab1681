import { maskable, processSecrets, type SecretRegistry } from './registry.js';
import { childMode, redactInlineSecrets, REDACTED, type SecretMode } from './vocabulary.js';

/**
 * The one redactor: every text lifeguard writes, shows or sends passes here. Known secrets (the
 * registry's, plus `extra` the caller holds) are masked in every form they take in text (as is,
 * JSON-escaped, URL-encoded), then credentials recognisable by shape or by a secret name before them.
 */
export function redactText(text: string, extra: Iterable<string | undefined> = [], registry: SecretRegistry = processSecrets): string {
  return redactInlineSecrets(maskSecretValues(text, [...registry.values(), ...extra]));
}

/** Replaces every occurrence of a known secret (and its JSON-escaped and URL-encoded forms) in free text. */
export function maskSecretValues(text: string, secrets: Iterable<string | undefined>): string {
  const forms = new Set<string>();
  for (const secret of maskable([...secrets].filter((value): value is string => typeof value === 'string'))) {
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is masked whole; its line breaks stay.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (out.includes(form)) out = out.split(form).join(`${REDACTED}${'\n'.repeat(newlines(form))}`);
  }
  return out;
}

/**
 * Every string of a JSON value through {@link redactText}; keys stay. For what lifeguard shows and
 * stores (alerts, records, `--json` output), whose keys are lifeguard's own words.
 */
export function redactStrings<T>(value: T, extra: Iterable<string | undefined> = [], registry: SecretRegistry = processSecrets): T {
  const known = [...registry.values(), ...extra];
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return redactInlineSecrets(maskSecretValues(node, known));
    if (Array.isArray(node)) return node.map(walk);
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    return node;
  };
  return walk(value) as T;
}

/**
 * Like {@link redactStrings}, and every value under a secret key (`botToken`, `env`, `headers`) is
 * hidden whatever it is. For objects that came from elsewhere: log fields, PM2 payloads, configs.
 */
export function redactFields<T>(value: T, extra: Iterable<string | undefined> = [], registry: SecretRegistry = processSecrets): T {
  const known = [...registry.values(), ...extra];
  const walk = (node: unknown, mode: SecretMode, depth: number): unknown => {
    if (mode === 'secret' && (typeof node === 'string' || typeof node === 'number')) return REDACTED;
    if (typeof node === 'string') return redactInlineSecrets(maskSecretValues(node, known));
    if (depth > 12) return node;
    if (Array.isArray(node)) return node.map((item) => walk(item, mode, depth + 1));
    // As pino's err serializer shows it, with the error's own fields (code, status) kept.
    if (node instanceof Error) return walk({ ...node, type: node.name, message: node.message, stack: node.stack }, mode, depth + 1);
    if (!isPlainObject(node)) return node;
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child, childMode(mode, key, child), depth + 1)]));
  };
  return walk(value, 'plain', 0) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function newlines(text: string): number {
  return text.split('\n').length - 1;
}

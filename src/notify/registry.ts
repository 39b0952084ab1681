import { z } from 'zod';
import { apprise } from './providers/apprise.js';
import { discord } from './providers/discord.js';
import { email } from './providers/email.js';
import { gateway } from './providers/gateway.js';
import { ntfy } from './providers/ntfy.js';
import { slack } from './providers/slack.js';
import { telegram } from './providers/telegram.js';
import { webhook } from './providers/webhook.js';
import { ALERT_EVENTS, SEVERITIES, severityRank, type Alert, type AlertEventName, type AnyProviderDefinition, type Severity } from './types.js';

const DEFINITIONS: Readonly<Record<string, AnyProviderDefinition>> = Object.fromEntries(
  [webhook, slack, discord, telegram, ntfy, email, apprise, gateway].map((definition) => [definition.type, definition]),
);

/** One `notify` entry, checked and ready to send through. */
export interface ConfiguredProvider {
  /** Unique among the entries and safe in a file name. */
  readonly name: string;
  readonly type: string;
  readonly minSeverity: Severity;
  /** Only these events (besides `test` and `digest`); absent = all. */
  readonly events?: readonly AlertEventName[];
  readonly digest: boolean;
  readonly definition: AnyProviderDefinition;
  /** The definition's parsed options (defaults filled in). */
  readonly options: unknown;
  /** Values to mask wherever this provider's errors are logged or recorded. */
  readonly secrets: readonly string[];
}

/** `test` goes to every provider and `digest` by the `digest` flag, so neither belongs in an `events` filter. */
const FILTERABLE_EVENTS = ALERT_EVENTS.filter((event) => event !== 'test' && event !== 'digest');
const NAME = /^[a-z0-9_-]{1,40}$/;

const commonFields = z.object({
  type: z.string().describe(`one of ${Object.keys(DEFINITIONS).join(', ')}`),
  name: z.string().regex(NAME, 'must be 1 to 40 lowercase letters, digits, "-" or "_" (it becomes part of file names)').optional(),
  minSeverity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).default('info'),
  events: z
    .array(z.enum(FILTERABLE_EVENTS, { error: `must be one of ${FILTERABLE_EVENTS.join(', ')} (test always goes out, digest by "digest: true")` }))
    .min(1, 'must list at least one event; leave it out to get them all')
    .optional(),
  digest: z.boolean().default(false),
});
const COMMON_KEYS = new Set(Object.keys(commonFields.shape));

/**
 * Checks every `notify` entry on its own: a bad one becomes a problem (naming the entry, the field and the
 * fix, never a value) and the others still work. Names are the given `name`, else the type, then `type-2`,
 * `type-3`, ... in order; an entry keeps its name when another entry is broken, so files named after it stay.
 */
export function resolveProviders(entries: readonly unknown[]): { providers: ConfiguredProvider[]; problems: string[] } {
  const problems = entries.map((): string[] => []);
  const parsed = entries.map((entry, index) => parseCommon(entry, index, problems[index]!));
  const names = assignNames(parsed, problems);
  const providers: ConfiguredProvider[] = [];
  parsed.forEach((entry, index) => {
    const name = names[index];
    if (!entry || name === undefined) return;
    const { definition, common, raw } = entry;
    const options = Object.fromEntries(Object.entries(raw).filter(([key]) => !COMMON_KEYS.has(key)));
    const result = definition.options.safeParse(options);
    if (!result.success) {
      const where = `notify[${index}] ${common.name === undefined ? `(${definition.type})` : `"${common.name}" (${definition.type})`}`;
      for (const issue of result.error.issues) problems[index]!.push(`${where}: ${describeIssue(issue, options, definition)}`);
      return;
    }
    providers.push({
      name,
      type: definition.type,
      minSeverity: common.minSeverity,
      ...(common.events ? { events: common.events } : {}),
      digest: common.digest,
      definition,
      options: result.data,
      secrets: [...new Set(definition.secrets(result.data))].filter((secret) => secret.length > 0),
    });
  });
  return { providers, problems: problems.flat() };
}

/** Whether an alert goes to this provider: `test` always, `digest` by the flag, the rest by event filter and severity. */
export function wants(provider: ConfiguredProvider, alert: Alert): boolean {
  if (alert.event === 'test') return true;
  if (alert.event === 'digest') return provider.digest;
  if (provider.events && !provider.events.includes(alert.event)) return false;
  return severityRank(alert.severity) >= severityRank(provider.minSeverity);
}

interface ParsedEntry {
  readonly definition: AnyProviderDefinition;
  readonly common: z.infer<typeof commonFields>;
  readonly raw: Readonly<Record<string, unknown>>;
}

function parseCommon(entry: unknown, index: number, problems: string[]): ParsedEntry | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    problems.push(`notify[${index}]: must be an object like { type: "ntfy", topic: "..." }`);
    return undefined;
  }
  const raw = entry as Record<string, unknown>;
  const common = commonFields.safeParse(Object.fromEntries(Object.entries(raw).filter(([key]) => COMMON_KEYS.has(key))));
  const where = `notify[${index}]${typeof raw.name === 'string' && NAME.test(raw.name) ? ` "${raw.name}"` : ''}`;
  if (!common.success) {
    for (const issue of common.error.issues) problems.push(`${where}: ${describeIssue(issue, raw)}`);
    return undefined;
  }
  const definition = Object.hasOwn(DEFINITIONS, common.data.type) ? DEFINITIONS[common.data.type] : undefined;
  if (!definition) {
    problems.push(`${where}: type ${JSON.stringify(common.data.type.slice(0, 40))} is unknown; use one of ${Object.keys(DEFINITIONS).join(', ')}`);
    return undefined;
  }
  return { definition, common: common.data, raw };
}

/** Given names first (a repeat is a problem), then defaults around them, so no entry's name depends on another's validity. */
function assignNames(entries: readonly (ParsedEntry | undefined)[], problems: readonly string[][]): (string | undefined)[] {
  const taken = new Map<string, number>();
  const names = entries.map((entry, index) => {
    const given = entry?.common.name;
    if (given === undefined) return undefined;
    const first = taken.get(given);
    if (first !== undefined) {
      problems[index]!.push(`notify[${index}] "${given}": name is already used by notify[${first}]; give each entry its own name`);
      return undefined;
    }
    taken.set(given, index);
    return given;
  });
  entries.forEach((entry, index) => {
    if (!entry || entry.common.name !== undefined) return;
    const { type } = entry.definition;
    let name = type;
    for (let n = 2; taken.has(name); n += 1) name = `${type}-${n}`;
    taken.set(name, index);
    names[index] = name;
  });
  return names;
}

/** Zod's issue in the words of this config: a missing field says what to put there, a typo lists what exists. */
function describeIssue(issue: z.core.$ZodIssue, input: Readonly<Record<string, unknown>>, definition?: AnyProviderDefinition): string {
  const shape: Readonly<Record<string, z.ZodType>> = definition?.options instanceof z.ZodObject ? definition.options.shape : commonFields.shape;
  if (issue.code === 'unrecognized_keys') {
    const known = [...Object.keys(shape), ...COMMON_KEYS].join(', ');
    return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}; ${definition?.type ?? 'an entry'} takes ${known}`;
  }
  const [field] = issue.path;
  const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.path.length === 1 && typeof field === 'string' && input[field] === undefined;
  if (missing) {
    const what = shape[field]?.description;
    return `${field} is required${what ? `: ${what}` : ''}`;
  }
  const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
  return path ? `${path} ${issueText(issue)}` : issueText(issue);
}

const TYPE_WORDS: Readonly<Record<string, string>> = { array: 'a list', object: 'an object', int: 'a whole number', boolean: 'true or false' };

function issueText(issue: z.core.$ZodIssue): string {
  // Zod's own wording ("Invalid input: expected string, received number") reads badly after a field name.
  if (issue.code === 'invalid_type') return `must be ${TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`}`;
  // A record key that fails (a reserved header name) is reported inside a wrapper issue.
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  return issue.message;
}

import { FILE_HEADERS_ONLY, formatPatch, structuredPatch, type StructuredPatch } from 'diff';
import JSON5 from 'json5';
import { errorMessage } from '../core/errors.js';
import { maskSecretValues } from '../secrets/redact.js';
import {
  REDACTED, REDACTED_CHANGED, redactConfigText, redactPair, secretValuesOf, secretValuesOfText,
} from './redact-config.js';

export interface ConfigSide {
  /** Shown in the `---`/`+++` header, e.g. the snapshot id or the config path. */
  readonly label: string;
  readonly content: string;
}

export interface ConfigDiff {
  /** Unified diff with every secret hidden; empty when no line differs. */
  readonly patch: string;
  /** Byte for byte the same content. */
  readonly identical: boolean;
  /** `settings` when both sides parse (their values are compared), `text` when one does not. */
  readonly comparedAs: 'settings' | 'text';
  readonly linesAdded: number;
  readonly linesRemoved: number;
  /** Secrets whose value differs; the diff shows them as `[redacted, changed]`. */
  readonly secretsChanged: number;
  /** One line for a human: "identical", "3 lines added, 1 removed, 1 secret changed", … */
  readonly summary: string;
}

const CONTEXT_LINES = 3;

/**
 * A diff of two versions of a Gateway config in which no secret ever appears.
 *
 * When both parse, their values are pretty-printed (2-space JSON, keys in the file's own order, so
 * it reads like the file) with secrets redacted: edits to comments and formatting do not show, a
 * changed secret shows as `"token": "[redacted]"` → `"token": "[redacted, changed]"`. When a side
 * does not parse, the file texts are diffed as they are, with each redacted by a forgiving scanner
 * and by every secret known from either side, so the syntax error itself stays visible.
 */
export function diffConfigs({ before, after }: { before: ConfigSide; after: ConfigSide }): ConfigDiff {
  const parsedBefore = parseJson5(before.content);
  const parsedAfter = parseJson5(after.content);
  const result = parsedBefore.ok && parsedAfter.ok
    ? diffSettings(before.label, parsedBefore.value, after.label, parsedAfter.value)
    : diffText(before, parsedBefore, after, parsedAfter);
  const notParsed = ([[before, parsedBefore], [after, parsedAfter]] as const)
    .flatMap(([side, parsed]) => (parsed.ok ? [] : [`${side.label} is not valid JSON5 (${parsed.error})`]));
  const identical = before.content === after.content;
  return { ...result, identical, summary: summarize(result, identical, notParsed) };
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parseJson5(content: string): Parsed {
  try {
    return { ok: true, value: JSON5.parse(content) };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

type Compared = Omit<ConfigDiff, 'identical' | 'summary'>;

function diffSettings(beforeLabel: string, before: unknown, afterLabel: string, after: unknown): Compared {
  // Secrets also turn up outside secret keys (a token pasted into a URL or a note): mask them everywhere.
  const secrets = [...secretValuesOf(before), ...secretValuesOf(after)];
  const render = (value: unknown) => maskSecretValues(`${JSON.stringify(value, null, 2)}\n`, secrets);
  const afterRedacted = redactPair(after, before);
  const patch = structuredPatch(
    beforeLabel, afterLabel, render(redactPair(before, undefined).redacted), render(afterRedacted.redacted),
    undefined, undefined, { context: CONTEXT_LINES },
  );
  return { ...formatted(patch), comparedAs: 'settings', secretsChanged: afterRedacted.changedSecrets };
}

function diffText(before: ConfigSide, parsedBefore: Parsed, after: ConfigSide, parsedAfter: Parsed): Compared {
  const secrets = [
    ...(parsedBefore.ok ? secretValuesOf(parsedBefore.value) : []),
    ...(parsedAfter.ok ? secretValuesOf(parsedAfter.value) : []),
    ...secretValuesOfText(before.content),
    ...secretValuesOfText(after.content),
  ];
  // The diff runs on the real text, so a line whose only change is a secret still differs; what it
  // shows are the lines at the same positions of the redacted texts, never the real ones.
  const raw = structuredPatch(before.label, after.label, before.content, after.content, undefined, undefined, { context: CONTEXT_LINES });
  const beforeLines = redactConfigText(before.content, secrets).split('\n');
  const afterLines = redactConfigText(after.content, secrets).split('\n');
  let secretsChanged = 0;
  const hunks = raw.hunks.map((hunk) => {
    let oldLine = hunk.oldStart - 1;
    let newLine = hunk.newStart - 1;
    const lines = hunk.lines.map((line) => {
      switch (line[0]) {
        case ' ':
          newLine += 1;
          return ` ${beforeLines[oldLine++] ?? ''}`;
        case '-':
          return `-${beforeLines[oldLine++] ?? ''}`;
        case '+':
          return `+${afterLines[newLine++] ?? ''}`;
        default:
          return line; // "\ No newline at end of file"
      }
    });
    const removed = lines.filter((line) => line.startsWith('-'));
    return {
      ...hunk,
      lines: lines.map((line) => {
        // A removed and an added line that only differ in what was redacted: a secret changed there.
        const twin = line.startsWith('+') && line.includes(REDACTED) ? removed.indexOf(`-${line.slice(1)}`) : -1;
        if (twin < 0) return line;
        removed.splice(twin, 1);
        secretsChanged += 1;
        return line.split(REDACTED).join(REDACTED_CHANGED);
      }),
    };
  });
  return { ...formatted({ ...raw, hunks }), comparedAs: 'text', secretsChanged };
}

function formatted(patch: StructuredPatch): Pick<ConfigDiff, 'patch' | 'linesAdded' | 'linesRemoved'> {
  const lines = patch.hunks.flatMap((hunk) => hunk.lines);
  return {
    patch: patch.hunks.length > 0 ? formatPatch(patch, FILE_HEADERS_ONLY) : '',
    linesAdded: lines.filter((line) => line.startsWith('+')).length,
    linesRemoved: lines.filter((line) => line.startsWith('-')).length,
  };
}

function summarize(result: Compared, identical: boolean, notParsed: readonly string[]): string {
  if (identical) return 'identical';
  if (result.linesAdded + result.linesRemoved === 0) return 'same settings; only comments or formatting differ';
  const parts = [`${count(result.linesAdded, 'line')} added, ${result.linesRemoved} removed`];
  if (result.secretsChanged > 0) parts.push(`${count(result.secretsChanged, 'secret')} changed`);
  const asText = notParsed.length > 0 ? `; compared as text because ${notParsed.join(' and ')}` : '';
  return `${parts.join(', ')}${asText}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

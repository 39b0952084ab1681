import { redactText } from '../secrets/redact.js';
import { RUNG_NAMES } from '../incidents/ladder.js';
import type { IncidentRecord } from '../incidents/record.js';

export const BRIEF_FILE = 'LIFEGUARD_INCIDENT.md';
export const BRIEF_JSON_FILE = 'LIFEGUARD_INCIDENT.json';

export interface BriefInput {
  readonly record: IncidentRecord;
  readonly main: { readonly configPath: string; readonly stateDir: string; readonly port: number };
  /** The command that runs lifeguard's CLI, as the rescue's `LIFEGUARD_CLI` holds it. */
  readonly cli: string;
  readonly config: { readonly valid: boolean | 'unknown'; readonly detail: string } | undefined;
  /** A diff of the main's config against the last-known-good snapshot, secrets already redacted. */
  readonly diff: { readonly summary: string; readonly patch: string } | undefined;
  /** Values that must not appear (the main's token); everything is masked again before it is written. */
  readonly secrets: readonly string[];
}

export interface Brief {
  readonly markdown: string;
  readonly json: Record<string, unknown>;
}

const time = (at: number) => new Date(at).toISOString();

/** The commands the rescue should run, in order. */
export function nextCommands(id: string): string[] {
  return [
    `$LIFEGUARD_CLI incident ack ${id} --by rescue-agent`,
    '$LIFEGUARD_CLI diagnose main',
    '$LIFEGUARD_CLI config validate main',
    '$LIFEGUARD_CLI config diff main',
    '$LIFEGUARD_CLI config restore main --by rescue-agent',
    '$LIFEGUARD_CLI restart main --by rescue-agent',
    `$LIFEGUARD_CLI incident resolve ${id} --by rescue-agent`,
  ];
}

/**
 * The incident brief for the rescue agent (Markdown) and its twin for tools (JSON). Pure. Everything in
 * it is already secret-free; it is masked once more with the known secrets all the same.
 */
export function buildBrief(input: BriefInput): Brief {
  const { record, main } = input;
  const lease = record.lease;
  const commands = nextCommands(record.id);
  const lines = [
    `# lifeguard incident ${record.id}: the main Gateway needs repair`,
    '',
    'You are the rescue bot. The main Gateway on this machine is down and lifeguard could not bring it back by itself.',
    lease
      ? `You hold the main until ${time(lease.until)} (lease): lifeguard takes no automated action on it meanwhile. Acknowledge by ${time(lease.ackBy)}, or the owner is paged.`
      : 'The owner asked for this handoff.',
    '',
    '## Do this',
    '',
    ...commands.map((c, i) => `${i + 1}. \`${c}\``),
    '',
    `\`$LIFEGUARD_CLI\` is \`${input.cli}\`. Every command takes \`--json\`. Restore only when the diff shows the breakage; restart refuses an invalid config unless \`--force\`.`,
    'Your skill `lifeguard` (`skills/lifeguard/SKILL.md` in this workspace) explains each command and when to use it.',
    '',
    '## What happened',
    '',
    `- ${record.summary}`,
    `- classification: ${record.classification ?? record.problem}; rung ${record.rung} (${RUNG_NAMES[record.rung]}); opened ${time(record.openedAt)}`,
    '',
    '## The main Gateway',
    '',
    `- config: \`${main.configPath}\``,
    `- state dir: \`${main.stateDir}\``,
    `- port: ${main.port}`,
    '',
    '## Its config now',
    '',
    `- ${input.config ? `${input.config.valid === true ? 'valid' : input.config.valid === false ? 'INVALID' : 'not checked'}: ${input.config.detail}` : 'not checked'}`,
    '',
    '## Diff against the last-known-good snapshot (secrets redacted)',
    '',
    input.diff ? `${input.diff.summary}\n\n\`\`\`diff\n${input.diff.patch || '(no difference)'}\n\`\`\`` : 'No snapshot to compare with.',
    '',
    "## The Gateway's own error output",
    '',
    '```',
    ...(record.errorOutput.length ? record.errorOutput : ['(none captured)']),
    '```',
    '',
    '## Log tail',
    '',
    '```',
    ...(record.logTail.length ? record.logTail.slice(-30) : ['(none captured)']),
    '```',
    '',
    '## What lifeguard already tried',
    '',
    ...(record.actions.length ? record.actions.map((a) => `- ${time(a.at)} ${a.rung} ${a.action}: ${a.status}${a.detail ? ` (${a.detail})` : ''}`) : ['- nothing yet']),
    '',
    '## Timeline',
    '',
    ...record.timeline.slice(-40).map((e) => `- ${time(e.at)} ${e.kind}: ${e.text}`),
    '',
  ];
  const json = {
    id: record.id,
    instance: record.instance,
    summary: record.summary,
    classification: record.classification ?? null,
    rung: record.rung,
    openedAt: time(record.openedAt),
    lease: lease ? { until: time(lease.until), ackBy: time(lease.ackBy) } : null,
    main,
    cli: input.cli,
    config: input.config ?? null,
    diff: input.diff ?? null,
    errorOutput: record.errorOutput,
    logTail: record.logTail,
    actions: record.actions,
    commands,
  };
  const mask = (text: string) => redactText(text, input.secrets);
  return { markdown: mask(lines.join('\n')), json: JSON.parse(mask(JSON.stringify(json))) as Record<string, unknown> };
}

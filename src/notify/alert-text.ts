import type { Alert, Severity } from './types.js';

/** How a chat format marks text up; `text` escapes whatever that format would otherwise interpret. */
export interface Markup {
  text(raw: string): string;
  bold(raw: string): string;
  code(raw: string): string;
}

const PLAIN: Markup = { text: (raw) => raw, bold: (raw) => raw, code: (raw) => raw };

// An alert's fields are meant to be short; these caps keep one runaway value from crowding out the rest.
const FIELD_CHARS = 300;
const KEY_CHARS = 40;
const MAX_COMMANDS = 5;

const SEVERITY_ICONS: Record<Severity, string> = { critical: '🔴', warning: '🟠', info: '🔵' };

/** Good news reads as good news, whatever severity it was sent with. */
export function isGoodNews(alert: Alert): boolean {
  return alert.event === 'recovered' || alert.event === 'resolved';
}

function alertIcon(alert: Alert): string {
  return isGoodNews(alert) ? '✅' : SEVERITY_ICONS[alert.severity];
}

/** The lock-screen line: icon and summary. */
export function headline(alert: Alert): string {
  return `${alertIcon(alert)} ${clip(oneLine(alert.summary), FIELD_CHARS)}`;
}

/** `instance main · incident X · host h · 2026-11-25 09:14:03 UTC` */
function contextLine(alert: Alert): string {
  const parts = [
    alert.instance === null ? undefined : `instance ${alert.instance}`,
    alert.incidentId === null ? undefined : `incident ${alert.incidentId}`,
    `host ${alert.host}`,
    readableTime(alert.at),
  ];
  return parts.filter((part) => part !== undefined).map((part) => clip(oneLine(part), FIELD_CHARS)).join(' · ');
}

export interface RenderOptions {
  readonly markup: Markup;
  readonly maxLength: number;
  /** False when the format shows the headline elsewhere (a title, a Discord message above its embed). */
  readonly withHeadline: boolean;
}

/**
 * The alert as a short message: headline, context line, details, commands. When it is longer than
 * `maxLength`, details are dropped from the end first (`… 2 more`); returns undefined when even
 * headline, context and commands alone do not fit, so the caller can fall back to `plainAlertText`.
 */
export function renderAlertText(alert: Alert, options: RenderOptions): string | undefined {
  const { markup } = options;
  const head = options.withHeadline ? [markup.bold(headline(alert))] : [];
  const context = [markup.text(contextLine(alert))];
  const details = Object.entries(alert.details).map(
    ([key, value]) => `${markup.text(clip(oneLine(key), KEY_CHARS))}: ${markup.text(clip(oneLine(value), FIELD_CHARS))}`,
  );
  const commands = alert.commands.slice(0, MAX_COMMANDS).map((command) => markup.code(clip(oneLine(command), FIELD_CHARS)));
  for (let kept = details.length; kept >= 0; kept -= 1) {
    const dropped = details.length - kept;
    const shown = dropped ? [...details.slice(0, kept), markup.text(`… ${dropped} more`)] : details;
    const text = [[...head, ...context], shown, commands].filter((block) => block.length).map((block) => block.join('\n')).join('\n\n');
    if (text.length <= options.maxLength) return text;
  }
  return undefined;
}

/** Plain text that always fits: the rendering above, or failing that, clipped. */
export function plainAlertText(alert: Alert, maxLength: number, withHeadline = true): string {
  return renderAlertText(alert, { markup: PLAIN, maxLength, withHeadline })
    ?? clip(renderAlertText(alert, { markup: PLAIN, maxLength: Infinity, withHeadline }) ?? '', maxLength);
}

/** Cuts to `max` characters with a trailing `…`, never between the two halves of a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function readableTime(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

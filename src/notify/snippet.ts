import { redactText } from '../secrets/redact.js';

const SNIPPET_CHARS = 200;

/**
 * A receiver's answer (an HTTP body, a CLI's stderr) as it may appear in a delivery error: one short
 * line, with the provider's secrets masked, since an API may echo what it was sent.
 */
export function snippet(text: string, secrets: readonly string[]): string {
  const line = redactText(text, secrets).replace(/\s+/g, ' ').trim();
  return line.length > SNIPPET_CHARS ? `${line.slice(0, SNIPPET_CHARS - 1)}…` : line;
}

// How commands print: answers on stdout, warnings and progress on stderr, `--json` as indented JSON.
// Everything goes through the one redactor: Gateway output, records and configs can hold secrets.
import { redactStrings, redactText } from '../../secrets/redact.js';

export const stdout = (text: string) => process.stdout.write(lineOf(redactText(text)));
export const stderr = (text: string) => process.stderr.write(lineOf(redactText(text)));

function lineOf(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function printJson(value: unknown): void {
  stdout(JSON.stringify(redactStrings(value), null, 2));
}

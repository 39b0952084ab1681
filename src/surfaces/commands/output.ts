// How commands print: answers on stdout, warnings and progress on stderr, `--json` as indented JSON.

export const stdout = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const stderr = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export function printJson(value: unknown): void {
  stdout(JSON.stringify(value, null, 2));
}

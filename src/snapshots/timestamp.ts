/** `20261125T210347Z`: UTC, sortable as text, and safe in file names and on a command line. */
export function compactUtc(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

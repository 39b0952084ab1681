import { UserError } from '../core/errors.js';

/** `${NAME}`: the value is read from a variable instead of being written into the config file. */
const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export function isSecretReference(value: string): boolean {
  return REFERENCE.test(value);
}

/**
 * A setting that holds a secret either literally or as `${NAME}`; `vars` are where names are looked up
 * (`where` says which, for the error). An unset or empty variable is an error, never an empty secret.
 */
export function resolveSecret(key: string, value: string, vars: Readonly<Record<string, string | undefined>>, where: string): string {
  const name = REFERENCE.exec(value)?.[1];
  if (name === undefined) return value;
  const resolved = vars[name];
  if (!resolved) throw new UserError(`${key} is \${${name}}, but ${name} is not set (${where})`);
  return resolved;
}

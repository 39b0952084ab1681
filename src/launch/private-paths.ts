import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * lifeguard's home and the log files PM2 writes the apps' output to hold what the Gateways print (their
 * secrets included): the folders 0700 and the files 0600, also when they already existed with looser
 * modes. The log files are created before PM2 starts, since PM2 would create them world-readable.
 */
export async function securePrivatePaths(home: string, logFiles: readonly string[]): Promise<void> {
  const dirs = new Set([home, ...logFiles.map((file) => dirname(file))]);
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  }
  for (const file of logFiles) {
    await (await open(file, 'a', 0o600)).close();
    await chmod(file, 0o600);
  }
}

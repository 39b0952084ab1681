import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { securePrivatePaths } from '../../src/launch/private-paths.js';
import { tempDir } from '../helpers/temp-dir.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe("lifeguard's home and the Gateways' PM2 log files", () => {
  it('are made private even when they already existed readable by others, and the log files exist before PM2 writes them', async () => {
    const home = join(tempDir('lg-private-'), 'lg');
    const logs = join(home, 'logs');
    await mkdir(logs, { recursive: true, mode: 0o755 });
    await chmod(home, 0o755);
    await chmod(logs, 0o777);
    const existing = join(logs, 'gateway-main.err.log');
    await writeFile(existing, 'bot token printed by the Gateway\n', { mode: 0o644 });
    await chmod(existing, 0o644);
    const fresh = join(logs, 'gateway-main.out.log');
    await securePrivatePaths(home, [existing, fresh]);
    assert.deepEqual(await Promise.all([home, logs, existing, fresh].map(modeOf)), [0o700, 0o700, 0o600, 0o600]);
  });
});

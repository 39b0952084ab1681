import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ANOTHER_SUPERVISOR_EXIT_CODE, holdSupervisorLock, supervisorLockPath } from '../../src/daemon/single-instance.js';
import { UserError } from '../../src/core/errors.js';
import { readProcStat } from '../../src/host/proc-stat.js';
import { tempDir } from '../helpers/temp-dir.js';

function writeHolder(home: string, holder: object): void {
  mkdirSync(dirname(supervisorLockPath(home)), { recursive: true });
  writeFileSync(supervisorLockPath(home), `${JSON.stringify(holder)}\n`);
}

describe('one supervisor per LIFEGUARD_HOME', () => {
  it('takes the lock on a fresh home and gives it back on release', async () => {
    const home = tempDir('lg-lock-');
    const release = await holdSupervisorLock(home, new Date());
    assert.equal(JSON.parse(readFileSync(supervisorLockPath(home), 'utf8')).pid, process.pid);
    await release();
    assert.equal(existsSync(supervisorLockPath(home)), false);
  });

  it('refuses while another live supervisor holds it, naming its pid, with the exit code PM2 does not restart', async () => {
    const home = tempDir('lg-lock-');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    await once(other, 'spawn');
    try {
      const stat = await readProcStat(other.pid!);
      writeHolder(home, { pid: other.pid, startTicks: stat!.startTicks, since: '2026-12-02T21:00:00.000Z' });
      await assert.rejects(holdSupervisorLock(home, new Date(), 0), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.exitCode, ANOTHER_SUPERVISOR_EXIT_CODE);
        assert.match(error.message, new RegExp(`another lifeguard supervisor \\(pid ${other.pid}, running since 2026-12-02T21:00:00.000Z\\)`));
        return true;
      });
      assert.equal(JSON.parse(readFileSync(supervisorLockPath(home), 'utf8')).pid, other.pid, 'the holder keeps its lock');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over from a holder that died (SIGKILL leaves the file behind)', async () => {
    const home = tempDir('lg-lock-');
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(dead, 'exit');
    writeHolder(home, { pid: dead.pid, startTicks: 1, since: '2026-12-02T20:00:00.000Z' });
    const release = await holdSupervisorLock(home, new Date(), 0);
    assert.equal(JSON.parse(readFileSync(supervisorLockPath(home), 'utf8')).pid, process.pid);
    await release();
  });

  it('takes over when the pid lives on in another process (same pid, other start time)', async () => {
    const home = tempDir('lg-lock-');
    const self = await readProcStat(process.pid);
    writeHolder(home, { pid: process.ppid, startTicks: (self?.startTicks ?? 0) + 123_456_789, since: '2026-12-02T20:00:00.000Z' });
    const release = await holdSupervisorLock(home, new Date(), 0);
    await release();
  });
});

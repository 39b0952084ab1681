import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stopHungProcess, type KillDeps } from '../../src/actions/safe-kill.js';
import { cpuShareBetween, parseProcStat, readProcStat, type ProcStat } from '../../src/host/proc-stat.js';

/** A fake process table: states by pid, and what each signal does to it. */
function fakeProcesses(table: Record<number, ProcStat | undefined>, onSignal: (pid: number, signal: string) => void = () => {}) {
  const signals: string[] = [];
  const deps: KillDeps = {
    stat: async (pid) => table[pid],
    signal: (pid, signal) => {
      signals.push(`${pid}:${signal}`);
      onSignal(pid, signal);
      return table[pid] !== undefined;
    },
    descendants: async (pid) => (pid === 100 ? [101] : []),
    sleep: async () => {},
  };
  return { deps, signals };
}

describe('safe kill of a hung Gateway', () => {
  it('sends SIGTERM and stops there when the process exits within the grace', async () => {
    const table: Record<number, ProcStat | undefined> = { 100: { state: 'R', ppid: 1, startTicks: 500, cpuTicks: 0 }, 101: { state: 'S', ppid: 100, startTicks: 510, cpuTicks: 0 } };
    const { deps, signals } = fakeProcesses(table, (pid, signal) => { if (signal === 'SIGTERM') table[pid] = undefined; });
    const outcome = await stopHungProcess({ pid: 100, startTicks: 500 }, 3_000, deps);
    assert.deepEqual(outcome, { kind: 'killed', how: 'SIGTERM', pids: [100] });
    assert.deepEqual(signals, ['100:SIGTERM']);
  });

  it('SIGKILLs the whole tree when SIGTERM is ignored (a spinning event loop never runs its handler)', async () => {
    const table = { 100: { state: 'R', ppid: 1, startTicks: 500, cpuTicks: 0 }, 101: { state: 'S', ppid: 100, startTicks: 510, cpuTicks: 0 } };
    const { deps, signals } = fakeProcesses(table);
    const outcome = await stopHungProcess({ pid: 100, startTicks: 500 }, 1_000, deps);
    assert.equal(outcome.kind, 'killed');
    assert.deepEqual(signals, ['100:SIGTERM', '100:SIGKILL', '101:SIGKILL']);
  });

  it('SIGKILLs a stopped (T) process at once: it cannot act on SIGTERM', async () => {
    const { deps, signals } = fakeProcesses({ 100: { state: 'T', ppid: 1, startTicks: 500, cpuTicks: 0 } });
    await stopHungProcess({ pid: 100, startTicks: 500 }, 3_000, deps);
    assert.deepEqual(signals, ['100:SIGKILL', '101:SIGKILL']);
  });

  it('leaves alone a pid that now belongs to another process', async () => {
    const { deps, signals } = fakeProcesses({ 100: { state: 'S', ppid: 1, startTicks: 9_999, cpuTicks: 0 } });
    const outcome = await stopHungProcess({ pid: 100, startTicks: 500 }, 3_000, deps);
    assert.equal(outcome.kind, 'not-the-same');
    assert.deepEqual(signals, []);
  });

  it('does nothing to a process that is already gone or a zombie', async () => {
    const gone = fakeProcesses({});
    assert.deepEqual(await stopHungProcess({ pid: 100, startTicks: 500 }, 3_000, gone.deps), { kind: 'gone' });
    const zombie = fakeProcesses({ 100: { state: 'Z', ppid: 1, startTicks: 500, cpuTicks: 0 } });
    assert.deepEqual(await stopHungProcess({ pid: 100, startTicks: 500 }, 3_000, zombie.deps), { kind: 'gone' });
    assert.deepEqual([...gone.signals, ...zombie.signals], []);
  });

  it('kills a real SIGSTOPped child process and reads its identity from /proc', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    process.kill(child.pid!, 'SIGSTOP');
    let stat = await readProcStat(child.pid!);
    for (let i = 0; i < 50 && stat?.state !== 'T'; i += 1) stat = await readProcStat(child.pid!);
    assert.equal(stat?.state, 'T');
    const exited = once(child, 'exit');
    const outcome = await stopHungProcess({ pid: child.pid!, startTicks: stat!.startTicks }, 3_000);
    assert.equal(outcome.kind, 'killed');
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');
  });
});

describe('/proc/<pid>/stat parsing', () => {
  it('counts fields from the last parenthesis, so a command name with spaces and parentheses is harmless', () => {
    const line = '4242 (node (gateway) x) T 17 4242 4242 0 -1 4194560 100 0 0 0 12 3 0 0 20 0 11 0 987654 1000 50 18446744073709551615';
    assert.deepEqual(parseProcStat(line), { state: 'T', ppid: 17, startTicks: 987654, cpuTicks: 15 });
    assert.equal(parseProcStat('garbage'), undefined);
  });

  it('turns two readings of one process into the cores it used between them, and refuses to compare strangers', () => {
    const at = (cpuTicks: number, ms: number, startTicks = 500) => ({ pid: 7, startTicks, cpuTicks, at: ms });
    assert.equal(cpuShareBetween(at(1_000, 10_000), at(1_190, 12_000)), 0.95);
    assert.equal(cpuShareBetween(at(1_000, 10_000), at(1_010, 12_000)), 0.05);
    assert.equal(cpuShareBetween(undefined, at(1_010, 12_000)), undefined);
    assert.equal(cpuShareBetween(at(1_000, 10_000, 400), at(1_190, 12_000)), undefined, 'the pid was reused');
    assert.equal(cpuShareBetween(at(1_000, 10_000), at(1_001, 10_100)), undefined, 'too close together');
    assert.equal(cpuShareBetween(at(1_000, 10_000), at(1_025, 10_250)), 1, 'a quarter second is enough');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chatCommandFor, chatCommandsForAlert } from '../../src/chat/commands.js';
import { commandText, isWrite, parseChatCommand, type ChatRequest } from '../../src/chat/parse.js';
import { sampleAlert } from '../helpers/sample-alert.js';

function request(args: string): ChatRequest {
  const parsed = parseChatCommand(args);
  assert.ok(parsed.ok, `"${args}" was refused: ${parsed.ok ? '' : parsed.refusal}`);
  return parsed.request;
}

function refusal(args: string): string {
  const parsed = parseChatCommand(args);
  assert.ok(!parsed.ok, `"${args}" was accepted as ${JSON.stringify(parsed.ok && parsed.request)}`);
  return parsed.refusal;
}

describe('/lifeguard parsing', () => {
  it('understands every subcommand, and says it back the way the owner would type it', () => {
    const cases: Array<[string, string]> = [
      ['status', '/lifeguard status'],
      ['diagnose', '/lifeguard diagnose'],
      ['diagnose main', '/lifeguard diagnose'],
      ['diagnose rescue', '/lifeguard diagnose rescue'],
      ['incidents', '/lifeguard incidents'],
      ['incident main-20261125-210347Z', '/lifeguard incident main-20261125-210347Z'],
      ['ack main-20261125-210347Z', '/lifeguard ack main-20261125-210347Z'],
      ['resolve rescue-20261125-210347Z', '/lifeguard resolve rescue-20261125-210347Z'],
      ['restore', '/lifeguard restore'],
      ['restore --id 20261125T210347Z-3f2a9c1b', '/lifeguard restore --id 20261125T210347Z-3f2a9c1b'],
      ['restart main', '/lifeguard restart main'],
      ['pause main 30m', '/lifeguard pause main 30m'],
      ['resume main', '/lifeguard resume main'],
      ['help', '/lifeguard help'],
    ];
    for (const [args, said] of cases) assert.equal(commandText(request(args)), said, args);
  });

  it('marks exactly the commands that change something as writes', () => {
    const writes = ['ack main-20261125-210347Z', 'resolve main-20261125-210347Z', 'restore', 'restart main', 'pause main 1h', 'resume main'];
    const reads = ['status', 'diagnose', 'incidents', 'incident main-20261125-210347Z', 'help'];
    for (const args of writes) assert.equal(isWrite(request(args)), true, args);
    for (const args of reads) assert.equal(isWrite(request(args)), false, args);
  });

  it('forgives what a phone does to a message: capitals, an em dash for --, a lower-case z', () => {
    assert.deepEqual(request('Status'), { kind: 'status' });
    assert.deepEqual(request('  Restart   Main '), { kind: 'restart', instance: 'main' });
    assert.deepEqual(request('restore —id 20261125t210347z-3F2A9C1B'), { kind: 'restore', snapshotId: '20261125T210347Z-3f2a9c1b' });
    assert.deepEqual(request('restore 20261125T210347Z-3f2a9c1b'), { kind: 'restore', snapshotId: '20261125T210347Z-3f2a9c1b' });
    assert.deepEqual(request('restore main --id=20261125T210347Z-3f2a9c1b'), { kind: 'restore', snapshotId: '20261125T210347Z-3f2a9c1b' });
    assert.deepEqual(request('ack Main-20261125-210347z'), { kind: 'ack', id: 'main-20261125-210347Z' });
    assert.deepEqual(request('pause 2h'), { kind: 'pause', instance: 'main', duration: '2h' });
    assert.deepEqual(request('resume'), { kind: 'resume', instance: 'main' });
  });

  it('takes the incident commands as alerts and the CLI spell them', () => {
    assert.deepEqual(request('incident ack main-20261125-210347Z'), { kind: 'ack', id: 'main-20261125-210347Z' });
    assert.deepEqual(request('incident resolve main-20261125-210347Z'), { kind: 'resolve', id: 'main-20261125-210347Z' });
    assert.deepEqual(request('incident show main-20261125-210347Z'), { kind: 'incident', id: 'main-20261125-210347Z' });
  });

  it('a bare /lifeguard is the help', () => {
    assert.deepEqual(request(''), { kind: 'help' });
    assert.deepEqual(parseChatCommand(undefined), { ok: true, request: { kind: 'help' } });
  });

  it('refuses an unknown subcommand and points at the help', () => {
    assert.equal(refusal('frobnicate now'), 'Unknown command "frobnicate". Send /lifeguard help for the list.');
  });

  it('refuses a missing or malformed incident id, and says where the ids are', () => {
    assert.match(refusal('ack'), /^Which incident\? Send \/lifeguard ack <id>; \/lifeguard incidents lists the ids\.$/);
    assert.match(refusal('resolve ../../etc/passwd'), /"\.\.\/\.\.\/etc\/passwd" is not an incident id \(they look like main-20261125-210347Z\)\. Send \/lifeguard incidents/);
    assert.match(refusal('incident main-2026-1'), /not an incident id/);
    assert.match(refusal('ack main-20261125-210347Z now'), /"now" is too much: send \/lifeguard ack <id>/);
  });

  it('refuses a malformed snapshot id, and offers the newest instead', () => {
    assert.match(refusal('restore --id latest'), /^"latest" is not a snapshot id \(they look like 20261125T210347Z-3f2a9c1b\)\. Send \/lifeguard restore for the newest/);
    assert.match(refusal('restore --id'), /^Which snapshot\?/);
    assert.match(refusal('restore --force'), /^Unknown option "--force"/);
    assert.match(refusal('restore rescue'), /^Only the main's config is kept as snapshots/);
  });

  it('refuses pauses shorter than a minute or longer than a week, and garbage durations', () => {
    assert.match(refusal('pause main 30s'), /^A pause must last between 1m and 7d \(got 30s\)\. Send \/lifeguard pause main 30m/);
    assert.match(refusal('pause main 8d'), /between 1m and 7d/);
    assert.match(refusal('pause main soon'), /^"soon" is not a duration; write it like 90s, 10m/);
    assert.match(refusal('pause main'), /^For how long\? Send \/lifeguard pause main 30m/);
  });

  it('never lets the rescue restart, pause or resume itself from its own chat', () => {
    assert.match(refusal('restart rescue'), /^The rescue cannot restart itself from its own chat\. Send \/lifeguard restart main, or on the machine: lifeguard restart rescue$/);
    assert.match(refusal('pause rescue 1h'), /rescue cannot pause itself/);
    assert.match(refusal('resume rescue'), /rescue cannot resume itself/);
    assert.match(refusal('restart'), /^Restart what\? Send \/lifeguard restart main$/);
    assert.match(refusal('restart staging'), /^There is no "staging" Gateway/);
    assert.match(refusal('restart main --force'), /--force is not offered in chat/);
    assert.match(refusal('status please'), /"please" is too much: send \/lifeguard status$/);
  });
});

describe('CLI suggestions in chat form', () => {
  it('maps the repair commands to /lifeguard and leaves the machine-only ones out', () => {
    assert.equal(chatCommandFor('npx lifeguard config restore main'), '/lifeguard restore');
    assert.equal(chatCommandFor('npx lifeguard restart main'), '/lifeguard restart main');
    assert.equal(chatCommandFor('npx lifeguard incident resolve main-20261125-210347Z'), '/lifeguard resolve main-20261125-210347Z');
    assert.equal(chatCommandFor('npx lifeguard incident show main-20261125-210347Z'), '/lifeguard incident main-20261125-210347Z');
    assert.equal(chatCommandFor('npx lifeguard diagnose main'), '/lifeguard diagnose');
    assert.equal(chatCommandFor('npx lifeguard restart rescue'), undefined);
    assert.equal(chatCommandFor('npx lifeguard config diff main'), undefined);
    assert.equal(chatCommandFor('npx lifeguard logs main --lines 100'), undefined);
    assert.equal(chatCommandFor('kill 4242'), undefined);
  });

  it('an alert ends with what to send now: diagnose, then the likeliest fix', () => {
    const id = 'main-20261125-210347Z';
    const configBroken = sampleAlert({ event: 'down', details: { state: 'down', classification: 'config-invalid' }, commands: [`npx lifeguard incident show ${id}`] });
    assert.deepEqual(chatCommandsForAlert(configBroken), ['/lifeguard diagnose', '/lifeguard restore']);
    assert.deepEqual(chatCommandsForAlert(sampleAlert({ event: 'config-invalid' })), ['/lifeguard diagnose', '/lifeguard restore']);
    const crash = sampleAlert({ incidentId: id, commands: [`npx lifeguard incident show ${id}`, `npx lifeguard incident ack ${id}`] });
    assert.deepEqual(chatCommandsForAlert(crash), ['/lifeguard diagnose', `/lifeguard ack ${id}`]);
    assert.deepEqual(chatCommandsForAlert(sampleAlert({ event: 'resolved' })), ['/lifeguard status']);
    assert.deepEqual(chatCommandsForAlert(sampleAlert({ event: 'digest', instance: null, incidentId: null })), ['/lifeguard incidents']);
    // The rescue in trouble cannot answer its own chat.
    assert.deepEqual(chatCommandsForAlert(sampleAlert({ instance: 'rescue' })), []);
  });
});

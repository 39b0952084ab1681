import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.js';
import { redactText } from '../../src/secrets/redact.js';

describe('logging', () => {
  it('writes pino JSON with tokens, passwords and PM2 env blocks redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ token: 'tok-AAAA', gateway: { auth: { token: 'tok-BBBB', password: 'pw-CCCC' } }, process: { env: { OPENAI_API_KEY: 'sk-DDDD' } } }, 'hello');
    const text = lines.join('');
    const record = JSON.parse(text);
    assert.equal(record.msg, 'hello');
    for (const secret of ['tok-AAAA', 'tok-BBBB', 'pw-CCCC', 'sk-DDDD']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  });

  it('masks secret-looking values and known secrets in free text', () => {
    assert.equal(redactText('auth failed token=abc123 "password": "hunter2"'), 'auth failed token=[redacted] "password": "[redacted]"');
    assert.equal(redactText('url ws://x?t=s3cr3t-value', ['s3cr3t-value']), 'url ws://x?t=[redacted]');
  });
});

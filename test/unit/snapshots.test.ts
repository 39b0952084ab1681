import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.js';
import { UserError } from '../../src/core/errors.js';
import {
  latestSnapshot, listSnapshots, readSnapshot, snapshotDir, takeSnapshot,
} from '../../src/snapshots/store.js';
import type { SnapshotGrade } from '../../src/snapshots/store.js';
import { restoreConfig } from '../../src/snapshots/restore.js';
import { diffConfigs } from '../../src/snapshots/diff.js';
import { redactConfig, redactConfigText, secretValuesOf } from '../../src/snapshots/redact-config.js';

const AT = Date.UTC(2026, 10, 25, 21, 3, 47, 512);
const MINUTE = 60_000;

function config(port: number): string {
  return `// the user's own comment, kept verbatim\n{\n  gateway: { mode: "local", port: ${port}, },\n}\n`;
}

function snapshotOptions(home: string, content: string, at: number, grade: SnapshotGrade = 'proven') {
  return { home, instance: 'main' as const, content, sourcePath: '/home/u/.openclaw/openclaw.json', at, keep: 3, reason: grade === 'proven' ? 'healthy for 5 min' : 'started fine on a valid config', grade };
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('config snapshots', () => {
  it('stores the config verbatim, private, atomically, under a time-sortable id', async () => {
    const home = tempDir('lg-snap-');
    const { taken, snapshot } = await takeSnapshot(snapshotOptions(home, config(18789), AT));
    assert.equal(taken, true);
    assert.match(snapshot.id, /^20261125T210347Z-[0-9a-f]{8}$/);
    const dir = snapshotDir(home, 'main');
    assert.deepEqual((await readdir(dir)).sort(), [`${snapshot.id}.json5`, `${snapshot.id}.meta.json`], 'no temp file left behind');
    assert.equal(await readFile(join(dir, `${snapshot.id}.json5`), 'utf8'), config(18789));
    assert.equal(await modeOf(dir), 0o700);
    for (const name of await readdir(dir)) assert.equal(await modeOf(join(dir, name)), 0o600, name);
    const read = await readSnapshot(home, 'main', snapshot.id);
    assert.equal(read.content, config(18789));
    assert.equal(read.sourcePath, '/home/u/.openclaw/openclaw.json');
    assert.equal(read.reason, 'healthy for 5 min');
  });

  it('keeps a config that started fine at once, promotes it once proven, and restores the best there is', async () => {
    const home = tempDir('lg-snap-');
    const started = await takeSnapshot(snapshotOptions(home, config(1), AT, 'started'));
    assert.equal(started.snapshot.grade, 'started');
    assert.equal((await latestSnapshot(home, 'main'))?.content, config(1), 'a restore exists from the first healthy start');
    const promoted = await takeSnapshot(snapshotOptions(home, config(1), AT + MINUTE, 'proven'));
    assert.equal(promoted.taken, false);
    assert.equal(promoted.snapshot.grade, 'proven');
    assert.equal(promoted.snapshot.reason, 'healthy for 5 min');
    await takeSnapshot(snapshotOptions(home, config(2), AT + 2 * MINUTE, 'started'));
    assert.equal((await latestSnapshot(home, 'main'))?.content, config(1), 'a proven config beats a newer one that only started');
    assert.equal((await takeSnapshot(snapshotOptions(home, config(1), AT + 3 * MINUTE, 'started'))).snapshot.grade, 'proven', 'never demoted');
  });

  it('does not copy the same content twice, but makes it the newest again', async () => {
    const home = tempDir('lg-snap-');
    const first = await takeSnapshot(snapshotOptions(home, config(1), AT));
    await takeSnapshot(snapshotOptions(home, config(2), AT + MINUTE));
    const again = await takeSnapshot(snapshotOptions(home, config(1), AT + 2 * MINUTE));
    assert.equal(again.taken, false);
    assert.equal(again.snapshot.id, first.snapshot.id);
    assert.equal((await listSnapshots(home, 'main')).length, 2);
    assert.equal((await latestSnapshot(home, 'main'))?.content, config(1), 'the config went back to 1, so 1 is the last good one');
  });

  it('keeps the newest N and deletes the oldest', async () => {
    const home = tempDir('lg-snap-');
    const ids: string[] = [];
    let pruned: readonly string[] = [];
    for (let n = 0; n < 5; n += 1) {
      const result = await takeSnapshot(snapshotOptions(home, config(n), AT + n * MINUTE));
      ids.push(result.snapshot.id);
      pruned = result.pruned;
    }
    assert.deepEqual(pruned, [ids[1]]);
    assert.deepEqual((await listSnapshots(home, 'main')).map((s) => s.id), [ids[4], ids[3], ids[2]]);
    assert.equal((await readdir(snapshotDir(home, 'main'))).length, 6);
  });

  it('refuses to snapshot a config that does not parse', async () => {
    const home = tempDir('lg-snap-');
    const error = await userErrorOf(takeSnapshot(snapshotOptions(home, '{ gateway: { port: 1 ', AT)));
    assert.match(error.message, /openclaw\.json: it is not valid JSON5/);
    await userErrorOf(takeSnapshot(snapshotOptions(home, '[1, 2]', AT)));
    assert.deepEqual(await listSnapshots(home, 'main'), []);
  });

  it('refuses ids that are paths or unknown, and says which exist', async () => {
    const home = tempDir('lg-snap-');
    assert.match((await userErrorOf(readSnapshot(home, 'main', '20261125T210347Z-00000000'))).message, /none exist yet/);
    const { snapshot } = await takeSnapshot(snapshotOptions(home, config(1), AT));
    for (const id of ['../x', 'a/b', `../main/${snapshot.id}`, `${snapshot.id}.json5`, '20261125T210347Z-00000000', '']) {
      const error = await userErrorOf(readSnapshot(home, 'main', id));
      assert.ok(error.message.includes(snapshot.id), `the existing id is offered for ${JSON.stringify(id)}:\n${error.message}`);
    }
  });

  it('refuses a snapshot whose file was changed after it was taken', async () => {
    const home = tempDir('lg-snap-');
    const { snapshot } = await takeSnapshot(snapshotOptions(home, config(1), AT));
    await writeFile(join(snapshotDir(home, 'main'), `${snapshot.id}.json5`), config(666));
    assert.match((await userErrorOf(latestSnapshot(home, 'main'))).message, /damaged/);
  });
});

describe('config restore', () => {
  it('keeps the rejected file beside the config and writes the snapshot byte for byte with the config mode', async () => {
    const dir = tempDir('lg-restore-');
    const configPath = join(dir, 'openclaw.json');
    const rejected = Buffer.from('{ gateway: { port: 1, \xff broken', 'latin1');
    await writeFile(configPath, rejected);
    await chmod(configPath, 0o640);
    const result = await restoreConfig({ configPath, content: config(18789), at: AT });
    assert.equal(result.keptAs, `${configPath}.lifeguard-rejected-20261125T210347Z`);
    assert.deepEqual(await readFile(result.keptAs), rejected);
    assert.equal(await modeOf(result.keptAs), 0o600);
    assert.equal(await readFile(configPath, 'utf8'), config(18789));
    assert.equal(await modeOf(configPath), 0o640);
    assert.deepEqual((await readdir(dir)).sort(), ['openclaw.json', 'openclaw.json.lifeguard-rejected-20261125T210347Z']);
  });

  it('never overwrites an earlier kept file', async () => {
    const dir = tempDir('lg-restore-');
    const configPath = join(dir, 'openclaw.json');
    await writeFile(configPath, 'first bad');
    const first = await restoreConfig({ configPath, content: config(1), at: AT });
    await writeFile(configPath, 'second bad');
    const second = await restoreConfig({ configPath, content: config(1), at: AT });
    assert.notEqual(second.keptAs, first.keptAs);
    assert.equal(await readFile(first.keptAs ?? '', 'utf8'), 'first bad');
    assert.equal(await readFile(second.keptAs ?? '', 'utf8'), 'second bad');
  });

  it('moves a directory, or a symlink to nowhere, standing where the config belongs aside and restores', async () => {
    for (const plant of [
      (path: string) => mkdir(join(path, 'inside'), { recursive: true }),
      (path: string) => symlink(join(dirname(path), 'gone.json'), path),
    ]) {
      const dir = tempDir('lg-restore-');
      const configPath = join(dir, 'openclaw.json');
      await plant(configPath);
      const result = await restoreConfig({ configPath, content: config(1), at: AT });
      assert.equal(result.keptAs, `${configPath}.lifeguard-rejected-20261125T210347Z`);
      assert.ok((await lstat(result.keptAs)).isDirectory() || (await lstat(result.keptAs)).isSymbolicLink(), 'what stood there is kept as it was');
      assert.equal(await readFile(configPath, 'utf8'), config(1));
      assert.equal(await modeOf(configPath), 0o600);
    }
  });

  it('writes the config when it is missing, private by default', async () => {
    const dir = tempDir('lg-restore-');
    const configPath = join(dir, 'openclaw.json');
    const result = await restoreConfig({ configPath, content: config(1), at: AT });
    assert.deepEqual(result, { changed: true });
    assert.equal(await readFile(configPath, 'utf8'), config(1));
    assert.equal(await modeOf(configPath), 0o600);
  });

  it('leaves a config that already holds the content alone', async () => {
    const dir = tempDir('lg-restore-');
    const configPath = join(dir, 'openclaw.json');
    await writeFile(configPath, config(1));
    assert.deepEqual(await restoreConfig({ configPath, content: config(1), at: AT }), { changed: false });
    assert.deepEqual(await readdir(dir), ['openclaw.json']);
  });
});

/** One value of every kind of secret a Gateway config holds; none may ever show in a diff. */
const SECRETS = {
  gatewayToken: 'gw-token-4f1c9a7e2b',
  gatewayPassword: 'correct horse battery staple',
  telegramBot: '7123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0',
  telegramWebhook: 'tg-webhook-secret-81ab',
  discord: 'discord-bot-token-ZmFrZQ',
  slackBot: 'xoxb-1234-5678-slackbotvalue',
  slackApp: 'xapp-1-A0123-slackappvalue',
  slackSigning: 'slack-signing-9b8c7d6e',
  slackHookPath: 'T000/B000/hookpathsecret42',
  openai: 'sk-proj-openaiKEY0123456789abcdef',
  anthropic: 'anthropic-key-no-prefix-77',
  envKey: 'env-secret-value-1234',
  envLower: 'lower-case-env-value',
  envVar: 'vars-section-value-5678',
  envNumber: '98765432',
  hooks: 'hooks-token-aa11bb22',
  authorization: 'bearer-credential-xyz789',
  urlPassword: 'urlpass-s3cr3t',
  queryToken: 'query-token-q1w2e3',
  clientSecret: 'oauth-client-secret-00',
  listed: 'listed-token-one-111',
  multiline: 'pem-line-one',
};

function secretConfig(gatewayToken = SECRETS.gatewayToken): string {
  return `// main Gateway
{
  gateway: {
    mode: "local",
    port: 18789,
    auth: { mode: "token", token: "${gatewayToken}", password: "${SECRETS.gatewayPassword}" },
    remote: { url: "wss://admin:${SECRETS.urlPassword}@gw.example:443/ws?token=${SECRETS.queryToken}" },
  },
  channels: {
    telegram: { botToken: "${SECRETS.telegramBot}", webhookSecret: "${SECRETS.telegramWebhook}" },
    discord: { token: '${SECRETS.discord}' },
    slack: { botToken: "${SECRETS.slackBot}", appToken: "${SECRETS.slackApp}", signingSecret: "${SECRETS.slackSigning}",
             webhookUrl: "https://hooks.slack.com/services/${SECRETS.slackHookPath}" },
  },
  models: { providers: {
    openai: { apiKey: "${SECRETS.openai}", baseUrl: "https://api.openai.com/v1" },
    anthropic: { apiKey: "${SECRETS.anthropic}", headers: { Authorization: "Bearer ${SECRETS.authorization}" } },
  } },
  env: { OPENAI_API_KEY: "${SECRETS.envKey}", lower_name: "${SECRETS.envLower}", PIN: ${SECRETS.envNumber},
         vars: { SOME_VAR: "${SECRETS.envVar}" } },
  hooks: { enabled: true, token: "${SECRETS.hooks}" },
  tools: { oauth: { clientSecret: "${SECRETS.clientSecret}" }, tokens: ["${SECRETS.listed}"] },
  skills: { entries: { pem: { privateKey: "${SECRETS.multiline}\\
pem-line-two-rest" } } },
  agents: { defaults: { model: { maxTokens: 4096 }, notes: "rotated from ${SECRETS.gatewayToken} last week" } },
  ui: { keyboard: "dvorak", tokenRef: "\${GATEWAY_TOKEN}" },
}
`;
}

function assertNoSecret(text: string, secrets: Iterable<string> = Object.values(SECRETS)): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} leaked:\n${text}`);
}

describe('config diff', () => {
  it('hides every kind of secret when both configs parse, and marks a changed one', () => {
    const changedToken = 'gw-token-NEW-5d6e7f8a';
    const diff = diffConfigs({
      before: { label: 'snapshot 20261125T210347Z-3f2a9c1b', content: secretConfig() },
      after: { label: '/home/u/.openclaw/openclaw.json', content: secretConfig(changedToken).replace('port: 18789', 'port: 18790') },
    });
    assert.equal(diff.comparedAs, 'settings');
    assertNoSecret(`${diff.patch}${diff.summary}`, [...Object.values(SECRETS), changedToken]);
    assert.match(diff.patch, /^-\s+"port": 18789,$/m);
    assert.match(diff.patch, /^\+\s+"port": 18790,$/m);
    assert.match(diff.patch, /^-\s+"token": "\[redacted\]",$/m);
    assert.match(diff.patch, /^\+\s+"token": "\[redacted, changed\]",$/m);
    assert.match(diff.summary, /2 lines added, 2 removed, 1 secret changed/);
  });

  it('shows what is not secret: keys, modes, counts, env references', () => {
    const redacted = JSON.stringify(redactConfig({
      ui: { keyboard: 'dvorak' }, agents: { defaults: { model: { maxTokens: 4096 } } },
      gateway: { auth: { mode: 'token', token: '${OPENCLAW_GATEWAY_TOKEN}' } }, env: { shellEnv: { enabled: true } },
    }));
    for (const visible of ['dvorak', '4096', '"mode":"token"', '${OPENCLAW_GATEWAY_TOKEN}', '"enabled":true']) {
      assert.ok(redacted.includes(visible), `${visible} hidden in ${redacted}`);
    }
  });

  it('lists the secrets of a config so free text can be masked', () => {
    const secrets = secretValuesOf({ channels: { discord: { token: SECRETS.discord } }, env: { PIN: 98765432 }, ui: { keyboard: 'dvorak' } });
    assert.deepEqual(secrets.sort(), [SECRETS.discord, SECRETS.envNumber].sort());
  });

  it('hides every kind of secret when a side has a syntax error, and still shows the error', () => {
    const newSecret = 'brand-new-hooks-token-zz';
    const broken = secretConfig()
      .replace('port: 18789,', 'port: 18789')
      .replace(`hooks: { enabled: true, token: "${SECRETS.hooks}" }`, `hooks: { enabled: true, token "${newSecret}" `);
    const diff = diffConfigs({ before: { label: 'snapshot', content: secretConfig() }, after: { label: 'current', content: broken } });
    assert.equal(diff.comparedAs, 'text');
    assertNoSecret(`${diff.patch}${diff.summary}`, [...Object.values(SECRETS), newSecret]);
    assert.match(diff.patch, /^\+ {4}port: 18789$/m, 'the missing comma is visible');
    assert.match(diff.patch, /^\+ {2}hooks: \{ enabled: true, token "\[redacted\]" ,$/m);
    assert.match(diff.summary, /compared as text because current is not valid JSON5/);
  });

  it('hides secrets of a broken config even with nothing known from a good one', () => {
    const broken = secretConfig().replace('mode: "local",', 'mode: "local"');
    const redacted = redactConfigText(broken);
    assertNoSecret(redacted);
    assert.equal(redacted.split('\n').length, broken.split('\n').length, 'line numbers still match the file');
  });

  it('marks a changed secret in a config that does not parse', () => {
    const before = '{\n  gateway: { port: 1 }\n  hooks: { token: "hooks-token-old-1234" },\n}\n';
    const after = before.replace('hooks-token-old-1234', 'hooks-token-new-5678');
    const diff = diffConfigs({ before: { label: 'a', content: before }, after: { label: 'b', content: after } });
    assert.equal(diff.comparedAs, 'text');
    assertNoSecret(diff.patch, ['hooks-token-old-1234', 'hooks-token-new-5678']);
    assert.match(diff.patch, /^-  hooks: \{ token: "\[redacted\]" \},$/m);
    assert.match(diff.patch, /^\+  hooks: \{ token: "\[redacted, changed\]" \},$/m);
    assert.equal(diff.secretsChanged, 1);
  });

  it('reports identical configs, and configs that differ only in comments', () => {
    const same = diffConfigs({ before: { label: 'a', content: secretConfig() }, after: { label: 'b', content: secretConfig() } });
    assert.deepEqual([same.identical, same.patch, same.summary], [true, '', 'identical']);
    const comments = diffConfigs({ before: { label: 'a', content: secretConfig() }, after: { label: 'b', content: `// edited\n${secretConfig()}` } });
    assert.deepEqual([comments.identical, comments.patch, comments.summary], [false, '', 'same settings; only comments or formatting differ']);
  });
});

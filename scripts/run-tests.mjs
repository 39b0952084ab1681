#!/usr/bin/env node
// Runs the test suite with node:test. Node 20's runner takes no globs, so the files are listed here.
//   node scripts/run-tests.mjs           unit + end-to-end (real Gateways under a real PM2)
//   node scripts/run-tests.mjs --unit    unit tests only
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const unitOnly = process.argv.includes('--unit');

function find(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...find(path, suffix));
    else if (name.endsWith(suffix)) out.push(relative(root, path));
  }
  return out.sort();
}

const unit = find(join(root, 'test', 'unit'), '.test.ts');
const e2e = unitOnly ? [] : find(join(root, 'test', 'e2e'), '.e2e.test.ts');

// End-to-end tests drive the built CLI (dist/), exactly as a user does.
const build = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...unit, ...e2e],
  { cwd: root, stdio: 'inherit', env: { ...process.env, PM2_DISABLE_VERSION_CHECK: '1' } },
);
process.exit(result.status ?? 1);

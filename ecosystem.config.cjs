// PM2 entry point: `pm2 start ecosystem.config.cjs` (or `npm start`).
// The app list comes from lifeguard itself: it validates its config, finds the Gateway (installing the
// pinned one if none is found), checks that the main and rescue Gateways are isolated, and only then
// writes a minimal Gateway config where none exists. If any check fails it prints why and PM2 starts
// nothing.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const cli = path.join(__dirname, 'dist', 'cli.js');
if (!existsSync(cli)) {
  throw new Error(`lifeguard is not built (${cli} is missing): run \`npm install\` in ${__dirname} first.`);
}
let output;
try {
  output = execFileSync(process.execPath, [cli, 'ecosystem'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 4 * 1024 * 1024,
  });
} catch {
  throw new Error('lifeguard refused to start the Gateways: see the message above. Nothing was started.');
}
module.exports = JSON.parse(output);

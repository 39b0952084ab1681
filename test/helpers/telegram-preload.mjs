// Test-only preload for Clawdbot 2026.1.x, which has no setting for the Bot API's address: loaded with
// `NODE_OPTIONS=--import <this file>` into its Gateway and its CLI, it sends every fetch meant for
// https://api.telegram.org to the loopback fake named by FAKE_TELEGRAM_API_FOR_TESTS instead.
const TELEGRAM = 'https://api.telegram.org';
const target = process.env.FAKE_TELEGRAM_API_FOR_TESTS;
if (target) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = function fetchViaFakeTelegram(input, init) {
    if (typeof input === 'string' && input.startsWith(TELEGRAM)) return realFetch(target + input.slice(TELEGRAM.length), init);
    if (input instanceof URL && input.href.startsWith(TELEGRAM)) return realFetch(new URL(target + input.href.slice(TELEGRAM.length)), init);
    if (input instanceof Request && input.url.startsWith(TELEGRAM)) return realFetch(new Request(target + input.url.slice(TELEGRAM.length), input), init);
    return realFetch(input, init);
  };
}

import { z } from 'zod';
import { redactText } from '../secrets/redact.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { snippet } from './snippet.js';
import { DeliveryError, type HttpRequestMessage } from './types.js';

/** A URL option: http or https only, so `htps://` or a `file:` URL is refused when the config is read. */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const USER_AGENT = `lifeguard/${LIFEGUARD_VERSION}`;

/** `base` may carry a path prefix (an API behind a reverse proxy), so segments are appended, never resolved. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export function jsonRequest(url: string, payload: unknown, headers: Readonly<Record<string, string>> = {}, method: 'POST' | 'PUT' = 'POST'): HttpRequestMessage {
  return {
    url,
    method,
    headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...headers },
    body: JSON.stringify(payload),
  };
}

export function textRequest(url: string, text: string, headers: Readonly<Record<string, string>>): HttpRequestMessage {
  return { url, method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8', 'User-Agent': USER_AGENT, ...headers }, body: text };
}

/**
 * Secrets of a URL that is itself the credential (Slack and Discord webhooks, most generic webhooks):
 * the whole URL, everything after the host, and a password in it.
 */
export function credentialUrlSecrets(url: string): string[] {
  const { pathname, search } = new URL(url);
  const afterHost = `${pathname}${search}`;
  return [url, ...(afterHost === '/' ? [] : [afterHost]), ...baseUrlSecrets(url)];
}

/** Secrets of an API's base URL: only a password written into it (`https://user:pass@host`). */
export function baseUrlSecrets(url: string): string[] {
  const { password } = new URL(url);
  if (!password) return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password];
  }
}

export interface HttpSendOptions {
  /** Kept out of error messages; a Telegram bot token, for one, is part of the URL. */
  readonly secrets: readonly string[];
  /** Checks a 2xx body the API may still mean as failure (Telegram's `{ok:false}`); returns what is wrong. */
  readonly checkBody?: (body: string) => string | undefined;
  /** Statuses besides 429 and 5xx that a later attempt can cure (Apprise API's 424: a target failed). */
  readonly retryStatuses?: readonly number[];
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * Sends one request and throws `DeliveryError` unless the receiver took it: 429, 5xx, network errors
 * and timeouts are retryable, other statuses are not (the request itself is wrong: bad token, unknown
 * chat, malformed body). Errors name only the URL's origin, since paths and queries can carry keys.
 */
export async function sendHttp(message: HttpRequestMessage, signal: AbortSignal, options: HttpSendOptions): Promise<void> {
  const origin = new URL(message.url).origin;
  const fail = (text: string, retryable: boolean, status?: number): DeliveryError =>
    new DeliveryError(redactText(`${origin}: ${text}`, options.secrets), retryable, status);
  let response: Response;
  let body: string;
  try {
    // Redirects are not followed: a POST turned into a GET, or headers sent on to another host, is no delivery.
    response = await fetch(message.url, { method: message.method, headers: message.headers, body: message.body, signal, redirect: 'manual' });
    body = await readBody(response);
  } catch (error) {
    throw fail(signal.aborted ? 'no answer before the attempt timed out' : describeNetworkError(error), true);
  }
  const { status } = response;
  const answer = body.trim() ? `: ${snippet(body, options.secrets)}` : '';
  if (status >= 200 && status < 300) {
    const wrong = options.checkBody?.(body);
    if (wrong) throw fail(`answered ${status} but ${wrong}${answer}`, true, status);
    return;
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location');
    const to = location ? ` to ${safeOrigin(location, message.url)}` : '';
    throw fail(`answered ${status}, a redirect${to}: configure the URL it redirects to`, false, status);
  }
  const retryable = status === 429 || status >= 500 || (options.retryStatuses?.includes(status) ?? false);
  throw fail(`answered ${status}${answer}`, retryable, status);
}

async function readBody(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_BODY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeNetworkError(error: unknown): string {
  // fetch reports every network failure as "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is its cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code) return `request failed (${code})`;
  return `request failed (${cause instanceof Error ? cause.message : String(cause)})`;
}

function safeOrigin(location: string, base: string): string {
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid location';
  }
}

import { z } from 'zod';
import { plainAlertText } from '../alert-text.js';
import { credentialUrlSecrets, httpUrl, jsonRequest, sendHttp } from '../http.js';
import type { HttpRequestMessage, ProviderDefinition } from '../types.js';

/** Headers lifeguard sets itself; a configured one of the same name would be sent twice or break deduplication. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'transfer-encoding', 'idempotency-key']);

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'is set by lifeguard itself');
// fetch sends header values as Latin-1 and refuses line breaks.
const headerValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must be one line of Latin-1 text');

const options = z.strictObject({
  url: httpUrl.describe('the URL to send alerts to'),
  method: z.enum(['POST', 'PUT'], { error: 'must be "POST" or "PUT"' }).default('POST'),
  headers: z.record(headerName, headerValue).default({}),
});
type WebhookOptions = z.infer<typeof options>;

/** Bumped when a field changes meaning or goes away; new fields may be added without a bump. */
const BODY_VERSION = 1;
const TEXT_CHARS = 4000;

/** Any HTTP endpoint: the alert as JSON, with an `Idempotency-Key` header so a receiver can drop repeats. */
export const webhook: ProviderDefinition<WebhookOptions, HttpRequestMessage> = {
  type: 'webhook',
  options,
  secrets: (opts) => [...credentialUrlSecrets(opts.url), ...Object.values(opts.headers)],
  format(alert, opts) {
    const body = {
      version: BODY_VERSION,
      event: alert.event,
      severity: alert.severity,
      summary: alert.summary,
      instance: alert.instance,
      incidentId: alert.incidentId,
      host: alert.host,
      at: alert.at,
      details: alert.details,
      commands: alert.commands,
      idempotencyKey: alert.idempotencyKey,
      text: plainAlertText(alert, TEXT_CHARS),
    };
    return jsonRequest(opts.url, body, { ...opts.headers, 'Idempotency-Key': alert.idempotencyKey }, opts.method);
  },
  send: (message, opts, context) => sendHttp(message, context.signal, { secrets: webhook.secrets(opts) }),
};

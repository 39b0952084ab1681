import { createHash } from 'node:crypto';
import { z } from 'zod';
import { redactText } from '../../secrets/redact.js';
import { plainAlertText } from '../alert-text.js';
import { DeliveryError, type Alert, type ProviderDefinition } from '../types.js';

const address = z.string().regex(/^[^\r\n@]+@[^\r\n@]+$/, 'must be an e-mail address, e.g. "alerts@example.com" or "lifeguard <alerts@example.com>"');

const options = z
  .strictObject({
    host: z.string().min(1, 'must not be empty').describe('your SMTP server, e.g. smtp.example.com'),
    port: z.int().min(1, 'must be a port number').max(65535, 'must be a port number').default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().optional(),
    user: z.string().min(1, 'must not be empty').optional(),
    password: z.string().min(1, 'must not be empty').optional(),
    from: address.describe('the sender address, e.g. "lifeguard <alerts@example.com>"'),
    to: z
      .union([address, z.array(address).min(1, 'must list at least one address')], { error: 'must be an e-mail address or a list of them' })
      .transform((to) => (typeof to === 'string' ? [to] : to))
      .describe('who gets the alerts: an address or a list of them'),
  })
  .superRefine((opts, ctx) => {
    // A login needs both; naming the missing one tells the owner which line to add.
    if (opts.user !== undefined && opts.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'must be set together with user' });
    if (opts.password !== undefined && opts.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'must be set together with password' });
  });
type EmailOptions = z.infer<typeof options>;

export interface EmailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** Derived from the idempotency key: a repeat of one alert is the same message to the mailbox. */
  readonly messageId: string;
  /** One made-up root per incident, so mail clients thread an outage's alerts together. */
  readonly references?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The dispatcher's signal ends an attempt; these only bound a server that stalls past it unnoticed. */
const BACKSTOP_TIMEOUT_MS = 60_000;

/** SMTP through nodemailer; plain text, subject `[lifeguard] CRITICAL: <summary>` for mail filters. */
export const email: ProviderDefinition<EmailOptions, EmailMessage> = {
  type: 'email',
  options,
  secrets: (opts) => (opts.password ? [opts.password] : []),
  format(alert, opts) {
    return {
      from: opts.from,
      to: opts.to,
      subject: `[lifeguard] ${alert.severity.toUpperCase()}: ${alert.summary.replace(/\s+/g, ' ').trim()}`,
      text: plainAlertText(alert, Infinity),
      messageId: messageId(alert.idempotencyKey, alert),
      ...(alert.incidentId === null ? {} : { references: messageId(`incident:${alert.incidentId}`, alert) }),
      headers: {
        'X-Lifeguard-Event': alert.event,
        'X-Lifeguard-Severity': alert.severity,
        ...(alert.incidentId === null ? {} : { 'X-Lifeguard-Incident': alert.incidentId }),
      },
    };
  },
  async send(message, opts, context) {
    // Loaded on first use: a supervisor without an e-mail provider does not carry nodemailer in memory.
    const { createTransport } = await import('nodemailer');
    const transport = createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure ?? opts.port === 465,
      ...(opts.user && opts.password ? { auth: { user: opts.user, pass: opts.password } } : {}),
      connectionTimeout: BACKSTOP_TIMEOUT_MS,
      greetingTimeout: BACKSTOP_TIMEOUT_MS,
      socketTimeout: BACKSTOP_TIMEOUT_MS,
    });
    try {
      await transport.sendMail({ ...message, to: [...message.to], signal: context.signal });
    } catch (error) {
      throw smtpFailure(error, opts, context.signal);
    } finally {
      transport.close();
    }
  },
};

function messageId(seed: string, alert: Alert): string {
  const domain = alert.host.toLowerCase().replace(/[^a-z0-9.-]/g, '') || 'lifeguard';
  return `<lifeguard.${createHash('sha256').update(seed).digest('hex').slice(0, 32)}@${domain}>`;
}

interface SmtpError {
  readonly message?: string;
  readonly code?: string;
  /** nodemailer's reading of the SMTP reply: true when the server refused the message for good (5xx). */
  readonly permanent?: boolean;
}

function smtpFailure(error: unknown, opts: EmailOptions, signal: AbortSignal): DeliveryError {
  const where = `SMTP ${opts.host}:${opts.port}`;
  const fail = (text: string, retryable: boolean) => new DeliveryError(redactText(`${where}: ${text}`, email.secrets(opts)), retryable);
  if (signal.aborted) return fail('no answer before the attempt timed out', true);
  const { message = String(error), code, permanent } = (error ?? {}) as SmtpError;
  if (code === 'EAUTH' || code === 'ENOAUTH') return fail(`login refused, check user and password (${message})`, false);
  return fail(message, !(permanent === true || code === 'ECONFIG'));
}

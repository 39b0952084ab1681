import { z } from 'zod';
import { isGoodNews, plainAlertText } from '../alert-text.js';
import { commandEnv, exitDetail, runCommand } from '../exec.js';
import { baseUrlSecrets, httpUrl, joinUrl, jsonRequest, sendHttp } from '../http.js';
import { DeliveryError, type Alert, type HttpRequestMessage, type ProviderDefinition } from '../types.js';

const options = z
  .strictObject({
    /** An Apprise API server (https://github.com/caronc/apprise-api). */
    apiUrl: httpUrl.optional(),
    /** A configuration stored on that server under this key: POST /notify/<key>. */
    key: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be letters, digits, "-" or "_" (the key of a stored Apprise configuration)').optional(),
    /** Only the stored configuration's URLs with this tag. */
    tag: z.string().min(1, 'must not be empty').optional(),
    /** Apprise URLs (tgram://..., mailto://..., ...): sent through the API server, or else the `apprise` CLI. */
    urls: z.array(z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, 'must be an Apprise URL like tgram://bottoken/chatid')).min(1, 'must list at least one URL').optional(),
    /** The CLI to run when there is no apiUrl; a full path when PM2's PATH does not include it (pipx: ~/.local/bin). */
    command: z.string().min(1, 'must not be empty').default('apprise'),
  })
  .superRefine((opts, ctx) => {
    const problem = choiceProblem(opts);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });
type AppriseOptions = z.infer<typeof options>;

export type AppriseMessage =
  | { readonly via: 'api'; readonly request: HttpRequestMessage }
  /** The URLs go in the environment, not the argv: any local user can read a command line, not another's environment. */
  | { readonly via: 'cli'; readonly argv: readonly string[]; readonly env: { readonly APPRISE_URLS: string } };

/** Apprise's notification types; its services pick icons and colours from them. */
type AppriseType = 'info' | 'success' | 'warning' | 'failure';
const BODY_CHARS = 4000;

/** Apprise (100+ services): an Apprise API server, or the `apprise` CLI with the URLs given here. */
export const apprise: ProviderDefinition<AppriseOptions, AppriseMessage> = {
  type: 'apprise',
  options,
  // Apprise URLs carry their service's credentials in full; a stored configuration's key reaches them too.
  secrets: (opts) => [...(opts.urls ?? []), ...(opts.key ? [opts.key] : []), ...(opts.apiUrl ? baseUrlSecrets(opts.apiUrl) : [])],
  format(alert, opts) {
    const title = alert.summary;
    const body = plainAlertText(alert, BODY_CHARS, false);
    const type = appriseType(alert);
    if (opts.apiUrl === undefined) {
      return { via: 'cli', argv: [opts.command, '-t', title, '-b', body, '-n', type], env: { APPRISE_URLS: (opts.urls ?? []).join(',') } };
    }
    const target = opts.key === undefined
      ? { path: 'notify', fields: { urls: (opts.urls ?? []).join(',') } }
      : { path: `notify/${opts.key}`, fields: opts.tag === undefined ? {} : { tag: opts.tag } };
    return { via: 'api', request: jsonRequest(joinUrl(opts.apiUrl, target.path), { ...target.fields, title, body, type, format: 'text' }) };
  },
  async send(message, opts, context) {
    const secrets = apprise.secrets(opts);
    if (message.via === 'api') {
      // 424: the server took the request but one of its services failed; that service may be back later.
      return sendHttp(message.request, context.signal, { secrets, retryStatuses: [424] });
    }
    const outcome = await runCommand(message.argv, { label: 'apprise', env: commandEnv(context.env, message.env), signal: context.signal, secrets });
    if (outcome.code === 0) return;
    // apprise exits 1 when a service failed (or no URL could be loaded); 2 is a bad argument, 3 nothing to notify.
    throw new DeliveryError(`apprise ${exitDetail(outcome, secrets)}`, outcome.code === 1);
  },
};

function choiceProblem(opts: { apiUrl?: string | undefined; key?: string | undefined; tag?: string | undefined; urls?: string[] | undefined }): { message: string; path: string[] } | undefined {
  if (opts.apiUrl === undefined && opts.urls === undefined) {
    return { message: 'needs "urls" (sent with the apprise CLI) or "apiUrl" (an Apprise API server)', path: [] };
  }
  if (opts.apiUrl === undefined && opts.key !== undefined) return { message: 'needs "apiUrl": a key names a configuration stored on an Apprise API server', path: ['key'] };
  if (opts.apiUrl !== undefined && opts.key === undefined && opts.urls === undefined) {
    return { message: 'is needed with "apiUrl" (the key of a configuration stored there), or set "urls" instead', path: ['key'] };
  }
  if (opts.key !== undefined && opts.urls !== undefined) return { message: 'cannot be combined with "key": a stored configuration brings its own URLs', path: ['urls'] };
  if (opts.tag !== undefined && opts.key === undefined) return { message: 'selects URLs of a stored configuration, so it needs "key"', path: ['tag'] };
  return undefined;
}

function appriseType(alert: Alert): AppriseType {
  if (isGoodNews(alert)) return 'success';
  return alert.severity === 'critical' ? 'failure' : alert.severity;
}

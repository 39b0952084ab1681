import type { IncidentRecord } from '../incidents/record.js';
import type { RestartReport } from '../surfaces/repair/restart.js';
import type { Diagnosis } from '../surfaces/diagnose.js';
import type { StatusView } from '../surfaces/status-view.js';
import { CHAT_PREFIX, chat } from './commands.js';
import { commandText, instanceOf, isWrite, parseChatCommand, type ChatRequest } from './parse.js';
import {
  finish, replyBusy, replyDiagnosis, replyFailed, replyHelp, replyIncident, replyIncidentChange, replyIncidents, replyPause,
  replyPm2Unreachable, replyRestart, replyRestore, replyResume, replyStatus,
  type IncidentChange, type IncidentSummary, type PauseDoc, type RestoreDoc, type ResumeDoc,
} from './reply.js';

/** Who sent a `/lifeguard` command, as the Gateway's plugin handler saw them. */
export interface ChatSender {
  /** The Gateway's sender id (`cli` for WebChat, the user id on Telegram, ...). */
  readonly id: string;
  readonly channel: string | undefined;
  /** The Gateway let this sender use commands at all (its allowlists, pairing, or operator scopes). */
  readonly authorized: boolean;
  /** The Gateway's own owner verdict (OpenClaw's senderIsOwner); undefined where it gives none (Clawdbot 2026.1.x). */
  readonly gatewayOwner: boolean | undefined;
}

export interface CliResult {
  /** Null when the process was killed (a timeout). */
  readonly code: number | null;
  /** The output went past what is read of it: the process was stopped and its answer is incomplete. */
  readonly overflowed?: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AuditTarget {
  readonly instance: 'main' | 'rescue';
  readonly incidentId: string | undefined;
}

export interface ChatDeps {
  /** `chat.ownerIds` from lifeguard's config: who may change things where the Gateway cannot tell. */
  readonly ownerIds: readonly string[];
  /** Runs `lifeguard <args>` and waits for it (at most timeoutMs). */
  readonly runCli: (args: readonly string[], timeoutMs: number) => Promise<CliResult>;
  /**
   * Writes a line into the incident a request names (a resolve lands in the incident it closes), else into
   * the instance's open incident, if there is one; never throws.
   */
  readonly audit: (target: AuditTarget, who: string, text: string) => Promise<unknown>;
  /** The id of the instance's open incident, if any. */
  readonly openIncident: (instance: string) => Promise<string | undefined>;
  /** Values that must never appear in a reply (the Gateways' tokens). */
  readonly secrets: readonly string[];
  /** `repair.lockTimeoutMs`: a repair command may wait this long for another one before answering busy. */
  readonly lockTimeoutMs: number;
  readonly now: () => number;
}

/** An audit line is one line of the incident's timeline. */
const AUDIT_CHARS = 400;
/** How long `restart main` waits for the main to answer: a cold OpenClaw start takes 10-40 s on 2 cores. */
export const RESTART_WAIT = '150s';
const RESTART_WAIT_MS = 150_000;
/** Beyond the lock wait: diagnose may run the Gateway's own validator (seconds), plus Node start-up. */
const COMMAND_MARGIN_MS = 90_000;

/** `telegram:123456789`: the form `chat.ownerIds` (and OpenClaw's ownerAllowFrom) use, for replies and audit lines. */
export function senderKey(sender: Pick<ChatSender, 'id' | 'channel'>): string {
  return sender.channel ? `${sender.channel}:${sender.id}` : sender.id;
}

/** `telegram:123456789` → channel `telegram`, id `123456789`; the id may hold colons itself. */
export function splitOwnerId(ownerId: string): { readonly channel: string; readonly id: string } | undefined {
  const colon = ownerId.indexOf(':');
  return colon > 0 ? { channel: ownerId.slice(0, colon), id: ownerId.slice(colon + 1) } : undefined;
}

/**
 * The Gateway's own verdict where it gives one (OpenClaw: an operator.admin client, or a sender in its
 * `commands.ownerAllowFrom`); otherwise lifeguard's `chat.ownerIds` (Clawdbot hands plugins no owner flag).
 * Channel and id are compared as separate fields, exactly: a Discord sender named `telegram:42` is not
 * the Telegram user 42, and ids that differ in case are different people on some channels.
 */
export function isOwner(sender: ChatSender, ownerIds: readonly string[]): boolean {
  if (sender.gatewayOwner !== undefined) return sender.gatewayOwner;
  return ownerIds.some((ownerId) => {
    const owner = splitOwnerId(ownerId);
    return owner !== undefined && owner.channel === sender.channel && owner.id === sender.id;
  });
}

/**
 * Reads that show Gateway output and incident detail. Where the Gateway names the owner (OpenClaw) any
 * sender it authorized may ask; on Clawdbot, whose allowlists may let many people in, only chat.ownerIds.
 */
const DETAILED_READS: ReadonlySet<ChatRequest['kind']> = new Set(['diagnose', 'incident']);

function needsOwner(request: ChatRequest, sender: ChatSender): boolean {
  return isWrite(request) || (sender.gatewayOwner === undefined && DETAILED_READS.has(request.kind));
}

/**
 * Answers one `/lifeguard ...` message: parse, authorize, run lifeguard's own CLI, and turn its JSON and
 * exit code into a reply for a phone. Every invocation, refused ones included, is written into the open
 * incident with the sender. Never throws for anything the sender did.
 */
export async function answerChat(args: string | undefined, sender: ChatSender, deps: ChatDeps): Promise<string> {
  const parsed = parseChatCommand(args);
  const who = `${senderKey(sender)} (chat)`;
  const asked = parsed.ok ? commandText(parsed.request) : chat(parsed.words).trim();
  let reply: string;
  if (!sender.authorized) reply = `⛔ ${senderKey(sender)} is not authorized to use ${CHAT_PREFIX} on this Gateway. Nothing was changed.`;
  else if (!parsed.ok) reply = `❓ ${parsed.refusal}`;
  else if (needsOwner(parsed.request, sender) && !isOwner(sender, deps.ownerIds)) reply = ownerOnly(parsed.request, sender);
  else reply = await execute(parsed.request, who, deps);
  const text = finish(reply, deps.secrets);
  const target: AuditTarget = parsed.ok
    ? { instance: instanceOf(parsed.request), incidentId: 'id' in parsed.request ? parsed.request.id : undefined }
    : { instance: 'main', incidentId: undefined };
  // What the sender typed is masked too: a token pasted into a chat must not land in the incident record.
  await deps.audit(target, who, finish(`${asked} → ${text.split('\n')[0]}`, deps.secrets, AUDIT_CHARS));
  return text;
}

function ownerOnly(request: ChatRequest, sender: ChatSender): string {
  // On Clawdbot the owner is whoever chat.ownerIds names, so tell them what to put there.
  const how = sender.gatewayOwner === undefined
    ? ` The owner's sender ids are chat.ownerIds in lifeguard.json5 (yours is ${senderKey(sender)}).`
    : '';
  return [
    `⛔ Only the owner may send ${commandText(request)}. Nothing was changed.${how}`,
    sender.gatewayOwner === undefined ? `You can still send ${chat('status')}.` : `You can still send ${chat('status')} or ${chat('diagnose')}.`,
  ].join('\n');
}

function cliArgs(request: ChatRequest, who: string): string[] | undefined {
  const by = ['--by', who, '--json'];
  switch (request.kind) {
    case 'help': return undefined;
    case 'status': return ['status', '--json'];
    case 'diagnose': return ['diagnose', request.instance, '--json'];
    case 'incidents': return ['incidents', '--limit', '5', '--json'];
    case 'incident': return ['incident', 'show', request.id, '--json'];
    case 'ack': case 'resolve': return ['incident', request.kind, request.id, ...by];
    // The file only: the owner restarts next, with restart's config check and health wait.
    case 'restore': return ['config', 'restore', 'main', '--no-restart', ...(request.snapshotId ? ['--id', request.snapshotId] : []), ...by];
    case 'restart': return ['restart', request.instance, '--timeout', RESTART_WAIT, ...by];
    case 'pause': return ['pause', request.instance, '--for', request.duration, ...by];
    case 'resume': return ['resume', request.instance, '--json'];
  }
}

async function execute(request: ChatRequest, who: string, deps: ChatDeps): Promise<string> {
  const args = cliArgs(request, who);
  if (!args) return replyHelp();
  const timeoutMs = deps.lockTimeoutMs + COMMAND_MARGIN_MS + (request.kind === 'restart' ? RESTART_WAIT_MS : 0);
  const result = await deps.runCli(args, timeoutMs);
  const asked = commandText(request);
  if (result.overflowed) return `⚠️ The answer to ${asked} was longer than lifeguard reads for a chat reply, so it was stopped and nothing of it is shown. Send ${chat('status')} to see where things are.`;
  if (result.code === null) return `⏳ ${asked} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped. Send ${chat('status')} to see where things are.`;
  if (result.code === 4) return replyBusy(result.stderr, asked);
  if (result.code === 5) return replyPm2Unreachable(result.stderr);
  const doc = parseJson(result.stdout);
  // 0 ok, 1 failed (diagnose: not healthy; restart: not healthy in time), 3 refused: all with their JSON.
  if (doc !== undefined && result.code !== 2) return await render(request, doc, deps);
  return replyFailed(result.stderr || result.stdout, asked, hintFor(request));
}

async function render(request: ChatRequest, doc: unknown, deps: ChatDeps): Promise<string> {
  const now = deps.now();
  switch (request.kind) {
    case 'status': return replyStatus(doc as StatusView, now);
    case 'diagnose': return replyDiagnosis(doc as Diagnosis);
    case 'incidents': return replyIncidents(doc as IncidentSummary[], now);
    case 'incident': return replyIncident(doc as IncidentRecord, now);
    case 'ack': case 'resolve': return replyIncidentChange(doc as IncidentChange, request.kind);
    case 'restore': return replyRestore(doc as RestoreDoc);
    case 'restart': {
      const report = doc as RestartReport;
      return replyRestart(report, report.healthy === true ? await deps.openIncident(request.instance) : undefined);
    }
    case 'pause': return replyPause(doc as PauseDoc);
    case 'resume': return replyResume(doc as ResumeDoc);
    case 'help': return replyHelp();
  }
}

function hintFor(request: ChatRequest): string | undefined {
  if ('id' in request) return `${chat('incidents')} lists the incidents.`;
  if (request.kind === 'restore') return `${chat('diagnose')} shows the config and its newest snapshot.`;
  return `${chat('status')} shows where things are.`;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

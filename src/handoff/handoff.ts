import { access, constants, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedInstance } from '../config/instance.js';
import { errorMessage } from '../core/errors.js';
import { writeFileAtomically } from '../core/fs.js';
import type { IncidentRecord } from '../incidents/record.js';
import { callGateway } from '../probes/gateway-ws.js';
import { redactStrings, redactText } from '../secrets/redact.js';
import { LIFEGUARD_VERSION } from '../version.js';
import { BRIEF_FILE, BRIEF_JSON_FILE, buildBrief, type BriefInput } from './brief.js';

export interface HandoffContext {
  readonly record: IncidentRecord;
  readonly main: ResolvedInstance;
  readonly rescue: ResolvedInstance;
  readonly cli: string;
  readonly config: BriefInput['config'];
  readonly diff: BriefInput['diff'];
  /** Makes sure the rescue Gateway runs and answers (starting it through PM2 if it is stopped). */
  readonly ensureRescue: () => Promise<{ ok: boolean; detail: string }>;
  readonly wakeAgent: boolean;
  readonly timeoutMs: number;
}

export interface HandoffOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * R3: puts the incident brief into the rescue workspace and asks the rescue agent to act. A rescue that
 * is down or a workspace that cannot be written fails the handoff (the ladder then pages the owner);
 * an agent that cannot be woken (no model credentials) is only recorded.
 */
export async function handOff(ctx: HandoffContext): Promise<HandoffOutcome> {
  const rescue = await ctx.ensureRescue();
  if (!rescue.ok) return { ok: false, detail: `the rescue Gateway is not up: ${rescue.detail}` };
  const workspace = ctx.rescue.workspace;
  try {
    await access(workspace, constants.W_OK);
  } catch (error) {
    return { ok: false, detail: `the rescue workspace ${workspace} is not writable: ${errorMessage(error)}` };
  }
  const brief = buildBrief({
    record: ctx.record, main: { configPath: ctx.main.configPath, stateDir: ctx.main.stateDir, port: ctx.main.port },
    cli: ctx.cli, config: ctx.config, diff: ctx.diff, secrets: [ctx.main.token, ctx.rescue.token].filter((t): t is string => t !== undefined),
  });
  try {
    await writeFileAtomically(join(workspace, BRIEF_FILE), redactText(brief.markdown));
    await writeFileAtomically(join(workspace, BRIEF_JSON_FILE), `${JSON.stringify(redactStrings(brief.json), null, 2)}\n`);
  } catch (error) {
    return { ok: false, detail: `cannot write the brief into ${workspace}: ${errorMessage(error)}` };
  }
  const woke = ctx.wakeAgent ? await wakeRescueAgent(ctx) : 'not asked (handoff.wakeAgent is off)';
  return { ok: true, detail: `brief written to ${join(workspace, BRIEF_FILE)}; rescue agent: ${woke}` };
}

/** Asks the rescue agent, through its own Gateway, to read the brief and act. Needs a model there. */
async function wakeRescueAgent(ctx: HandoffContext): Promise<string> {
  const reply = await callGateway({
    url: `ws://127.0.0.1:${ctx.rescue.port}`,
    token: ctx.rescue.token,
    timeoutMs: ctx.timeoutMs,
    clientVersion: LIFEGUARD_VERSION,
    scopes: ['operator.read', 'operator.write'],
    method: 'chat.send',
    params: {
      sessionKey: 'agent:main:lifeguard',
      message: `lifeguard incident ${ctx.record.id}: the main Gateway is down. Read ${BRIEF_FILE} in your workspace and follow it (skill "lifeguard").`,
      idempotencyKey: `${ctx.record.id}.handoff`,
    },
  });
  return reply.ok ? 'asked to act (chat.send accepted)' : `could not be woken (${reply.detail}); the owner can still run the commands`;
}

/** Once the incident is over, the brief moves to `lifeguard-archive/` in the rescue workspace: kept, not deleted. */
export async function archiveBrief(workspace: string, incidentId: string): Promise<string | undefined> {
  const archive = join(workspace, 'lifeguard-archive');
  const moved: string[] = [];
  for (const [file, suffix] of [[BRIEF_FILE, 'md'], [BRIEF_JSON_FILE, 'json']] as const) {
    try {
      await mkdir(archive, { recursive: true, mode: 0o700 });
      const target = join(archive, `${incidentId}.${suffix}`);
      await rename(join(workspace, file), target);
      moved.push(target);
    } catch {
      // No brief (never handed off, or already archived).
    }
  }
  return moved[0];
}

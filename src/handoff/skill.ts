import { join } from 'node:path';
import { readTextIfExists, writeFileAtomically } from '../core/fs.js';
import { sha256 } from '../guard/validate-config.js';
import { LIFEGUARD_VERSION } from '../version.js';

export const SKILL_NAME = 'lifeguard';

export function skillPath(workspace: string): string {
  return join(workspace, 'skills', SKILL_NAME, 'SKILL.md');
}

const REQUIRES = { emoji: '🛟', requires: { env: ['LIFEGUARD_CLI'] } };

/**
 * The standing handoff: a skill in the rescue workspace that teaches the rescue agent the repair
 * commands and when to use each. One-line JSON metadata, under both flavours' keys (OpenClaw reads
 * `openclaw` and still accepts the legacy `clawdbot`, Clawdbot reads `clawdbot`). Not user-invocable: as a
 * slash command it would shadow the model-free `/lifeguard` of the plugin on OpenClaw.
 */
export function renderSkill(version = LIFEGUARD_VERSION): string {
  const metadata = JSON.stringify({ openclaw: REQUIRES, clawdbot: REQUIRES, lifeguard: { version } });
  return `---
name: ${SKILL_NAME}
description: Repair the main Gateway of this machine when it is down or its config is broken - diagnose it, validate, diff and restore its config, restart it and close the incident, with the lifeguard CLI.
metadata: ${metadata}
user-invocable: false
---

# lifeguard: repair the main Gateway

You are the rescue bot. lifeguard watches the main Gateway on this machine; when it cannot fix an outage
by itself it writes \`LIFEGUARD_INCIDENT.md\` into your workspace and hands the main to you for a while
(a lease: lifeguard does nothing to the main until it runs out). Run every command below through the
shell exactly as written; \`$LIFEGUARD_CLI\` is set in your environment. Every command takes \`--json\`.
Pass \`--by rescue-agent\` to commands that change something, so the incident record says who did it.

The main's config file: \`$LIFEGUARD_MAIN_CONFIG_PATH\`; its state dir: \`$LIFEGUARD_MAIN_STATE_DIR\`; its
port: \`$LIFEGUARD_MAIN_PORT\`.

## When there is an incident
1. Read \`LIFEGUARD_INCIDENT.md\`. Acknowledge at once: \`$LIFEGUARD_CLI incident ack <id> --by rescue-agent\`
   (without an ack before the deadline in the brief, lifeguard pages the owner instead).
2. Find out what is wrong: \`$LIFEGUARD_CLI diagnose main\`. It runs every probe, validates the config,
   names who holds the port, shows PM2's view and the Gateway's last log lines, and suggests a fix.
3. If the config is invalid (\`$LIFEGUARD_CLI config validate main\`):
   - see what changed against the last-known-good config: \`$LIFEGUARD_CLI config diff main\`;
   - either fix the one broken line in \`$LIFEGUARD_MAIN_CONFIG_PATH\` (keep the rest of the file), or put
     the last-known-good config back: \`$LIFEGUARD_CLI config restore main --by rescue-agent\` (the broken
     file is kept beside it as \`.lifeguard-rejected-<time>\`);
   - validate again.
4. Restart it: \`$LIFEGUARD_CLI restart main --by rescue-agent\`. It refuses an invalid config (exit 3);
   never use \`--force\` unless the owner tells you to. It waits until the main is healthy and says so.
5. When \`$LIFEGUARD_CLI diagnose main\` says healthy, close the incident:
   \`$LIFEGUARD_CLI incident resolve <id> --by rescue-agent\`, and tell the owner what you did.
6. Read the last lines of its output any time: \`$LIFEGUARD_CLI logs main --lines 50\`.

## Rules
- Never print or send tokens, passwords or API keys from the config; the lifeguard commands already hide them.
- Do not run the Gateway's own \`doctor --fix\` on a config with a syntax error.
- If a command answers "busy", another repair is running: wait the seconds it says and try again.
- If nothing works, say so to the owner with the incident id; \`$LIFEGUARD_CLI incident show <id>\` has the whole story.
`;
}

export type SkillInstall = 'installed' | 'updated' | 'current' | 'kept-user-edit';

/**
 * Installs or updates the skill. A file lifeguard wrote is replaced by a newer one; a file someone edited
 * is left alone and the new version is put beside it (`SKILL.md.lifeguard-new`), so nothing is lost silently.
 */
export async function installSkill(workspace: string, lifeguardHome: string): Promise<{ state: SkillInstall; path: string }> {
  const path = skillPath(workspace);
  const wanted = renderSkill();
  const current = await readTextIfExists(path);
  const recordPath = join(lifeguardHome, 'state', 'skill.json');
  const written = await readTextIfExists(recordPath).then((t) => (t ? (JSON.parse(t) as { sha256?: string }).sha256 : undefined)).catch(() => undefined);
  const save = async (state: SkillInstall) => {
    await writeFileAtomically(path, wanted, 0o644);
    await writeFileAtomically(recordPath, `${JSON.stringify({ sha256: sha256(wanted), path, version: LIFEGUARD_VERSION })}\n`);
    return { state, path };
  };
  if (current === undefined) return save('installed');
  if (current === wanted) return { state: 'current', path };
  if (written !== undefined && sha256(current) === written) return save('updated');
  await writeFileAtomically(`${path}.lifeguard-new`, wanted, 0o644);
  return { state: 'kept-user-edit', path };
}

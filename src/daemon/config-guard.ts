import type { Logger } from 'pino';
import type { ResolvedInstance } from '../config/instance.js';
import { readTextIfExists } from '../core/fs.js';
import { ConfigWatcher } from '../guard/config-watcher.js';
import { probeGatewayLastKnownGood, runGatewayRecovery } from '../guard/gateway-recovery.js';
import { probeConfigValidity, readConfigFile, sha256, summarizeVerdict, type ConfigVerdict } from '../guard/validate-config.js';
import { gatewayEnvOf, type AppsContext } from '../pm2/apps.js';
import { listSnapshots, takeSnapshot, type SnapshotGrade } from '../snapshots/store.js';
import type { ActionOutcome } from './incident-desk.js';

/** Content judged once is judged again at least this often (an `$include`d file or `.env` may change). */
const REVALIDATE_SAME_CONTENT_MS = 10 * 60_000;

export interface GuardView {
  readonly valid: boolean | 'unknown';
  /** One line: the first issue, or how it was checked. */
  readonly detail: string;
  readonly hash: string | undefined;
  readonly at: number;
}

export interface ConfigGuardDeps {
  /** The instance as it is now (its token may rotate). */
  readonly instance: () => ResolvedInstance;
  readonly homes: Pick<AppsContext, 'runtime' | 'userHome' | 'lifeguardHome'>;
  readonly settings: { readonly intervalMs: number; readonly validateTimeoutMs: number };
  readonly log: Logger;
  readonly onVerdict: (view: GuardView) => void;
}

export interface ConfigGuard {
  verdict(): GuardView | undefined;
  /** Validates now (after lifeguard itself changed the file). */
  check(): Promise<void>;
  /** The best last-known-good snapshot lifeguard holds (what a restore uses: see listSnapshots). */
  newestSnapshot(): { readonly id: string; readonly hash: string } | undefined;
  /** OpenClaw keeps a valid last-known-good copy of its own that `doctor --fix` can restore. */
  gatewayRecoveryAvailable(): boolean;
  recover(): Promise<ActionOutcome>;
  /** Snapshots the config if the bytes on disk are the ones last judged valid (or promotes its snapshot to `proven`). */
  snapshot(reason: string, keep: number, grade: SnapshotGrade): Promise<void>;
  stop(): void;
}

/**
 * The config guard of one instance (the main): watches its config file, validates it the way the
 * Gateway will at its next start, keeps the last-known-good snapshots, and knows whether the Gateway's
 * own last-known-good copy is there to restore.
 */
export async function startConfigGuard(deps: ConfigGuardDeps): Promise<ConfigGuard> {
  const { log, homes } = deps;
  const home = homes.lifeguardHome;
  const name = deps.instance().name;
  const cli = { node: homes.runtime.node, entry: homes.runtime.entry };
  let view: GuardView | undefined;
  let judged: { hash: string; verdict: ConfigVerdict; at: number } | undefined;
  let newest = (await listSnapshots(home, name).catch(() => []))[0];
  /** The snapshot last taken or confirmed: nothing to do while the config and its grade stay the same. */
  let kept: { hash: string; grade: SnapshotGrade } | undefined;
  let gatewayCopy: { hash: string; usable: boolean } | undefined;

  const inputFor = () => {
    const instance = deps.instance();
    return {
      configPath: instance.configPath,
      flavour: instance.flavour,
      runtime: cli,
      env: gatewayEnvOf(instance, homes),
      gateway: { url: `ws://127.0.0.1:${instance.port}`, token: instance.token },
    };
  };

  /** A full validation only for new content (or now and then); the same bytes keep their verdict. */
  const validate = async (): Promise<ConfigVerdict> => {
    const file = await readConfigFile(deps.instance().configPath);
    const hash = file.state === 'parsed' || file.state === 'syntax' ? file.hash : undefined;
    if (judged && hash === judged.hash && Date.now() - judged.at < REVALIDATE_SAME_CONTENT_MS) return judged.verdict;
    const verdict = await probeConfigValidity(inputFor(), { timeoutMs: deps.settings.validateTimeoutMs });
    if (verdict.valid !== 'unknown' && verdict.hash !== null) judged = { hash: verdict.hash, verdict, at: Date.now() };
    return verdict;
  };

  /** Whether OpenClaw's own `.last-good` copy is there and valid; re-judged only when its bytes change. */
  const refreshGatewayCopy = async () => {
    if (deps.instance().flavour !== 'openclaw') return;
    const input = { configPath: deps.instance().configPath, runtime: cli, env: gatewayEnvOf(deps.instance(), homes) };
    const copy = await readConfigFile(`${input.configPath}.last-good`);
    const hash = copy.state === 'parsed' || copy.state === 'syntax' ? copy.hash : undefined;
    if (hash === undefined) {
      gatewayCopy = undefined;
      return;
    }
    if (gatewayCopy?.hash === hash) return;
    const probed = await probeGatewayLastKnownGood(input, { timeoutMs: deps.settings.validateTimeoutMs });
    gatewayCopy = { hash, usable: probed.state === 'present' && probed.verdict.valid === true };
    log.info({ instance: name, detail: probed.detail }, "the Gateway's own last-known-good copy");
  };

  const watcher = new ConfigWatcher({
    configPath: deps.instance().configPath,
    intervalMs: deps.settings.intervalMs,
    validate,
    onVerdict: (verdict) => {
      view = toView(verdict);
      log[verdict.valid === false ? 'warn' : 'info']({ instance: name, valid: view.valid, detail: view.detail }, 'config verdict');
      deps.onVerdict(view);
      void refreshGatewayCopy().catch((error: unknown) => log.warn({ err: error }, 'cannot judge the Gateway\'s last-known-good copy'));
    },
    onError: (error) => log.error({ err: error }, 'config verdict handling failed'),
  });
  await watcher.start();

  return {
    verdict: () => view,
    check: () => watcher.check(),
    newestSnapshot: () => newest,
    gatewayRecoveryAvailable: () => gatewayCopy?.usable === true,
    recover: async () => {
      const instance = deps.instance();
      const result = await runGatewayRecovery(
        { configPath: instance.configPath, runtime: cli, env: gatewayEnvOf(instance, homes) },
        { timeoutMs: deps.settings.validateTimeoutMs },
      );
      return { ok: result.ok, detail: result.detail };
    },
    snapshot: async (reason, keep, grade) => {
      // Called every tick while the main is healthy: the file is read only when there is something new to keep.
      if (view?.valid !== true || view.hash === undefined) return;
      if (kept?.hash === view.hash && (kept.grade === 'proven' || grade === 'started')) return;
      const content = await readTextIfExists(deps.instance().configPath);
      // Only the very bytes that were judged valid: an edit since then waits for its own verdict.
      if (content === undefined || sha256(content) !== view.hash) return;
      const taken = await takeSnapshot({ home, instance: name, content, sourcePath: deps.instance().configPath, at: Date.now(), keep, reason, grade });
      kept = taken.snapshot;
      newest = (await listSnapshots(home, name))[0];
      log.info({ instance: name, snapshot: taken.snapshot.id, taken: taken.taken, grade: taken.snapshot.grade, reason }, 'last-known-good snapshot');
    },
    stop: () => watcher.close(),
  };
}

function toView(verdict: ConfigVerdict): GuardView {
  return { ...summarizeVerdict(verdict), hash: verdict.hash ?? undefined, at: Date.now() };
}

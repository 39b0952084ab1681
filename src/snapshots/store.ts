import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import JSON5 from 'json5';
import { z } from 'zod';
import { errorMessage, UserError } from '../core/errors.js';
import { writeFileAtomically } from '../core/fs.js';
import type { InstanceName } from '../config/schema.js';
import { compactUtc } from './timestamp.js';

/**
 * Last-known-good copies of a Gateway config, under `<home>/snapshots/<instance>/`:
 * `<id>.json5` holds the file verbatim (comments and all, so a restore gives back exactly what the
 * user had) and `<id>.meta.json` its metadata. The metadata is written last, so a snapshot exists
 * only once both are complete.
 */

/** `20261125T210347Z-3f2a9c1b`: when it was first taken (UTC) and the start of its content's sha256. */
export const SNAPSHOT_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

const metaSchema = z.object({
  id: z.string().regex(SNAPSHOT_ID_PATTERN),
  takenAt: z.number(),
  confirmedAt: z.number(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  reason: z.string(),
  sourcePath: z.string(),
  // Snapshots from before grades existed were all taken after snapshots.healthyForMs of health.
  grade: z.enum(['started', 'proven']).default('proven'),
});

/**
 * `started`: the main came up healthy on it (kept at once, so a restore exists from the first healthy
 * start); `proven`: it then stayed healthy for snapshots.healthyForMs. A restore prefers proven ones.
 */
export type SnapshotGrade = 'started' | 'proven';

export interface SnapshotMeta {
  readonly id: string;
  /** When this content was first snapshotted (the time in the id). */
  readonly takenAt: number;
  /** The last time this content was snapshotted again as good; snapshots are ordered by it. */
  readonly confirmedAt: number;
  /** sha256 of the content's UTF-8 bytes, hex. */
  readonly hash: string;
  readonly bytes: number;
  readonly reason: string;
  /** The config file the content was read from. */
  readonly sourcePath: string;
  readonly grade: SnapshotGrade;
}

export interface Snapshot extends SnapshotMeta {
  readonly content: string;
}

export interface TakeSnapshotOptions {
  readonly home: string;
  readonly instance: InstanceName;
  /** The config file's text, exactly as read. */
  readonly content: string;
  readonly sourcePath: string;
  readonly at: number;
  /** How many snapshots to keep; the least recently confirmed beyond that are deleted. */
  readonly keep: number;
  readonly reason: string;
  readonly grade: SnapshotGrade;
}

export interface TakeSnapshotResult {
  /** False when a snapshot with the same content existed: it was confirmed again instead of copied. */
  readonly taken: boolean;
  readonly snapshot: SnapshotMeta;
  /** Ids deleted to stay within `keep`. */
  readonly pruned: readonly string[];
}

export function snapshotDir(home: string, instance: InstanceName): string {
  return join(home, 'snapshots', instance);
}

/**
 * Saves `content` as a snapshot, unless one with the same content exists; that one then becomes the
 * newest again (the config went back to it), and is promoted if it is now proven (never demoted).
 */
export async function takeSnapshot(options: TakeSnapshotOptions): Promise<TakeSnapshotResult> {
  const { home, instance, content, at } = options;
  // The caller validates before snapshotting; this keeps a bug there from saving a file that cannot be restored to.
  refuseUnparseable(content, options.sourcePath);
  const dir = snapshotDir(home, instance);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const hash = sha256(content);
  const existing = (await listSnapshots(home, instance)).find((snapshot) => snapshot.hash === hash);
  const snapshot: SnapshotMeta = existing
    ? { ...existing, confirmedAt: Math.max(existing.confirmedAt, at), ...(existing.grade === 'started' && options.grade === 'proven' ? { grade: 'proven', reason: options.reason } : {}) }
    : {
        id: `${compactUtc(at)}-${hash.slice(0, 8)}`,
        takenAt: at,
        confirmedAt: at,
        hash,
        bytes: Buffer.byteLength(content, 'utf8'),
        reason: options.reason,
        sourcePath: options.sourcePath,
        grade: options.grade,
      };
  if (!existing) await writeFileAtomically(contentPath(dir, snapshot.id), content, 0o600);
  await writeFileAtomically(metaPath(dir, snapshot.id), `${JSON.stringify(snapshot, null, 2)}\n`, 0o600);
  const pruned = await prune(home, instance, options.keep);
  return { taken: !existing, snapshot, pruned };
}

/**
 * The complete snapshots of an instance, best first: proven ones before those that only started fine,
 * each newest (most recently confirmed) first. The first is what a restore (R2, `config restore`) uses.
 */
export async function listSnapshots(home: string, instance: InstanceName): Promise<SnapshotMeta[]> {
  return (await listByConfirmation(home, instance)).sort((a, b) => gradeRank(b.grade) - gradeRank(a.grade));
}

function gradeRank(grade: SnapshotGrade): number {
  return grade === 'proven' ? 1 : 0;
}

/** Newest (most recently confirmed) first. */
async function listByConfirmation(home: string, instance: InstanceName): Promise<SnapshotMeta[]> {
  const dir = snapshotDir(home, instance);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const present = new Set(names);
  const metas: SnapshotMeta[] = [];
  for (const name of names) {
    const id = name.endsWith('.meta.json') ? name.slice(0, -'.meta.json'.length) : undefined;
    if (id === undefined || !SNAPSHOT_ID_PATTERN.test(id) || !present.has(`${id}.json5`)) continue;
    const meta = await readMeta(join(dir, name));
    if (meta?.id === id) metas.push(meta);
  }
  return metas.sort((a, b) => b.confirmedAt - a.confirmedAt || b.id.localeCompare(a.id));
}

export async function latestSnapshot(home: string, instance: InstanceName): Promise<Snapshot | undefined> {
  const [newest] = await listSnapshots(home, instance);
  return newest ? readVerified(home, instance, newest) : undefined;
}

/** One snapshot by id, as given on a command line: anything but an existing id is refused. */
export async function readSnapshot(home: string, instance: InstanceName, id: string): Promise<Snapshot> {
  const snapshots = await listSnapshots(home, instance);
  if (!SNAPSHOT_ID_PATTERN.test(id)) {
    throw new UserError(`${JSON.stringify(id)} is not a snapshot id (they look like 20261125T210347Z-3f2a9c1b).\n${available(instance, snapshots)}`, 2);
  }
  const meta = snapshots.find((snapshot) => snapshot.id === id);
  if (!meta) throw new UserError(`${instance} has no snapshot ${id}.\n${available(instance, snapshots)}`, 2);
  return readVerified(home, instance, meta);
}

const SHOWN_IDS = 5;

function available(instance: InstanceName, snapshots: readonly SnapshotMeta[]): string {
  if (snapshots.length === 0) return `Fix: none exist yet; ${instance}'s config is snapshotted once it has run healthy on a valid config.`;
  const shown = snapshots.slice(0, SHOWN_IDS).map((snapshot) => `  ${snapshot.id}  (${snapshot.reason})`);
  const more = snapshots.length > SHOWN_IDS ? [`  … and ${snapshots.length - SHOWN_IDS} older`] : [];
  return [`Fix: use one of ${instance}'s snapshots, newest first:`, ...shown, ...more].join('\n');
}

async function readVerified(home: string, instance: InstanceName, meta: SnapshotMeta): Promise<Snapshot> {
  const content = await readFile(contentPath(snapshotDir(home, instance), meta.id), 'utf8');
  if (sha256(content) !== meta.hash) {
    throw new UserError(`Snapshot ${meta.id} of ${instance} is damaged: its content no longer matches the hash recorded when it was taken.\nFix: use another snapshot.`);
  }
  return { ...meta, content };
}

async function prune(home: string, instance: InstanceName, keep: number): Promise<string[]> {
  const dir = snapshotDir(home, instance);
  // The least recently confirmed go, whatever their grade: a config that just started fine stays.
  const surplus = (await listByConfirmation(home, instance)).slice(keep);
  for (const { id } of surplus) {
    // Metadata first: a half-deleted snapshot is then simply no longer listed.
    await rm(metaPath(dir, id), { force: true });
    await rm(contentPath(dir, id), { force: true });
  }
  return surplus.map(({ id }) => id);
}

function refuseUnparseable(content: string, sourcePath: string): void {
  let parsed: unknown;
  try {
    parsed = JSON5.parse(content);
  } catch (error) {
    throw new UserError(`Refusing to snapshot ${sourcePath}: it is not valid JSON5 (${errorMessage(error)}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`Refusing to snapshot ${sourcePath}: it does not hold a JSON5 object at the top level.`);
  }
}

async function readMeta(path: string): Promise<SnapshotMeta | undefined> {
  try {
    const parsed = metaSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function sha256(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

function contentPath(dir: string, id: string): string {
  return join(dir, `${id}.json5`);
}

function metaPath(dir: string, id: string): string {
  return join(dir, `${id}.meta.json`);
}

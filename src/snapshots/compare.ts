import type { InstanceName } from '../config/schema.js';
import { readTextIfExists } from '../core/fs.js';
import { diffConfigs } from './diff.js';
import { latestSnapshot } from './store.js';

/** The config on disk against the newest last-known-good snapshot, secrets redacted; undefined without a snapshot. */
export async function diffAgainstNewestSnapshot(home: string, instance: InstanceName, configPath: string): Promise<{ summary: string; patch: string } | undefined> {
  const newest = await latestSnapshot(home, instance).catch(() => undefined);
  if (!newest) return undefined;
  const current = (await readTextIfExists(configPath)) ?? '';
  const diff = diffConfigs({ before: { label: `snapshot ${newest.id}`, content: newest.content }, after: { label: configPath, content: current } });
  return { summary: diff.summary, patch: diff.patch };
}

import { schedule, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

export interface Job {
  readonly name: string;
  /** Cron expression; empty = the job never runs. */
  readonly cron: string;
  readonly run: () => Promise<void>;
}

/**
 * Scheduled jobs (snapshots, the daily digest, the deep check) on node-cron. A run that is still busy
 * when the next is due is skipped, never doubled; a failure is logged and the schedule goes on.
 */
export function scheduleJobs(jobs: readonly Job[], log: Logger): { stop(): void } {
  const tasks: ScheduledTask[] = [];
  for (const job of jobs) {
    if (job.cron === '') continue;
    tasks.push(schedule(job.cron, async () => {
      try {
        await job.run();
      } catch (error) {
        log.error({ err: error, job: job.name }, 'scheduled job failed');
      }
    }, { name: `lifeguard-${job.name}`, noOverlap: true }));
  }
  return {
    stop: () => {
      for (const task of tasks) void task.destroy();
    },
  };
}

import type { Logger } from 'pino';
import type { Pm2Client } from '../actions/pm2.js';
import type { LifeguardConfig } from '../config/load.js';
import { appNameOf } from '../config/instance.js';
import { INSTANCE_NAMES } from '../config/names.js';
import type { Job } from '../daemon/jobs.js';
import { LIFEGUARD_APP, logFilesOf } from '../pm2/apps.js';
import { runHousekeeping } from './run.js';

/** The supervisor's scheduled housekeeping (config `housekeeping`), logging what it did. */
export function housekeepingJob(config: LifeguardConfig, pm2: Pm2Client, log: Logger): Job {
  const pm2Logs = [...INSTANCE_NAMES.map(appNameOf), LIFEGUARD_APP].flatMap((app) => Object.values(logFilesOf(config.home, app)));
  return {
    name: 'housekeeping',
    cron: config.housekeeping.schedule,
    run: async () => {
      const report = await runHousekeeping({ home: config.home, settings: config.housekeeping, pm2Logs, reopenPm2Logs: () => pm2.reloadLogs(), now: Date.now() });
      if (report.movedAside.length > 0) log.warn({ files: report.movedAside }, 'unreadable records moved aside (kept; `lifeguard incidents` lists them)');
      if (report.rotated.length + report.prunedIncidents + report.prunedDeliveries > 0) log.info(report, 'housekeeping');
    },
  };
}

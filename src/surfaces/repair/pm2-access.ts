import { connectPm2, isPm2DaemonRunning, pm2Home, type Pm2Client } from '../../actions/pm2.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { EXIT } from '../commands/exit-codes.js';
import { ownerCommand } from '../../core/command-line.js';

/** PM2, asked directly: repair commands must work while the supervisor is down, and never start a daemon. */
export async function openPm2(): Promise<Pm2Client> {
  if (!isPm2DaemonRunning()) {
    throw new UserError(`PM2 is not reachable: no PM2 daemon runs for ${pm2Home()}.\nFix: start everything with: ${ownerCommand('up')}`, EXIT.pm2);
  }
  return connectPm2({ timeoutMs: 10_000 }).catch((error: unknown) => {
    throw new UserError(`PM2 is not reachable: ${errorMessage(error)}`, EXIT.pm2);
  });
}

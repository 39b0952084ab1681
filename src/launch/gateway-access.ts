import type { ResolvedInstance } from '../config/instance.js';
import type { GatewayAccess } from '../notify/types.js';
import { gatewayEnvOf, type AppsContext } from '../pm2/apps.js';

/** How lifeguard reaches one Gateway from outside: its CLI with the instance's own env, and its RPC on loopback. */
export function gatewayAccessOf(instance: ResolvedInstance, ctx: Pick<AppsContext, 'runtime' | 'userHome' | 'lifeguardHome'>): GatewayAccess {
  return {
    command: [ctx.runtime.node, ctx.runtime.entry],
    env: gatewayEnvOf(instance, ctx),
    url: `ws://127.0.0.1:${instance.port}`,
    token: instance.token,
    configPath: instance.configPath,
  };
}

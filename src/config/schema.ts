import { z } from 'zod';
import { DERIVED_PORT_SPAN } from '../isolation/ports.js';

export const FLAVOURS = ['openclaw', 'clawdbot'] as const;
export type Flavour = (typeof FLAVOURS)[number];
export const INSTANCE_NAMES = ['main', 'rescue'] as const;
export type InstanceName = (typeof INSTANCE_NAMES)[number];

const MAX_BASE_PORT = 65535 - DERIVED_PORT_SPAN;

const port = z
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(1024, 'must be 1024 or higher (ports below need root)')
  .max(MAX_BASE_PORT, `must be at most ${MAX_BASE_PORT}, so that base+${DERIVED_PORT_SPAN} (the CDP range) still fits`);

const path = z.string().min(1, 'must not be empty');
const profile = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/i, 'must be letters, digits, "-" or "_" (a profile name, as in `openclaw --profile NAME`)');
const duration = (min: number, max: number) =>
  z.number().int('must be a whole number of milliseconds').min(min, `must be at least ${min} ms`).max(max, `must be at most ${max} ms`);

/** Variables lifeguard sets itself; letting `env` override them would undo the isolation. */
const RESERVED_ENV = /^(PATH|HOME|NODE_ENV|NO_COLOR|LIFEGUARD_.*|(OPENCLAW|CLAWDBOT)_(CONFIG_PATH|STATE_DIR|GATEWAY_PORT|PROFILE|NO_RESPAWN|DISABLE_BONJOUR))$/;
const extraEnv = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').refine((key) => !RESERVED_ENV.test(key), 'is set by lifeguard itself and cannot be overridden'),
  z.string(),
);

const instance = (defaults: { profile: string; port: number; bonjour: boolean }) =>
  z
    .strictObject({
      profile: profile.default(defaults.profile),
      port: port.default(defaults.port),
      configPath: path.optional(),
      stateDir: path.optional(),
      workspace: path.optional(),
      logFile: path.optional(),
      /** Advertise the Gateway over mDNS; two instances on a host clash on the name, so the rescue does not. */
      bonjour: z.boolean().default(defaults.bonjour),
      /** Extra environment for this Gateway app only (PM2 passes it nothing else). */
      env: extraEnv.default({}),
    })
    .prefault({});

export const configSchema = z
  .strictObject({
    gateway: z
      .strictObject({
        flavour: z.enum(['openclaw', 'clawdbot', 'auto']).default('auto'),
        bin: path.optional(),
        node: path.optional(),
      })
      .prefault({}),
    instances: z
      .strictObject({
        main: instance({ profile: 'default', port: 18789, bonjour: true }),
        rescue: instance({ profile: 'rescue', port: 19789, bonjour: false }),
      })
      .prefault({}),
    probes: z
      .strictObject({
        intervalMs: duration(250, 600_000).default(2_000),
        timeoutMs: duration(100, 60_000).default(1_500),
        retryIntervalMs: duration(100, 600_000).default(500),
        failureThreshold: z.number().int().min(1).max(100).default(3),
        successThreshold: z.number().int().min(1).max(100).default(2),
        startupGraceMs: duration(1_000, 3_600_000).default(180_000),
      })
      .prefault({}),
    restarts: z
      .strictObject({
        maxPerHour: z.number().int().min(0).max(100).default(4),
        crashLoopExits: z.number().int().min(2).max(100).default(5),
        crashLoopWindowMs: duration(10_000, 86_400_000).default(600_000),
      })
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .prefault({});

export type LifeguardConfigInput = z.input<typeof configSchema>;
export type LifeguardConfigFile = z.output<typeof configSchema>;
export type ProbeSettings = LifeguardConfigFile['probes'];
export type RestartPolicy = LifeguardConfigFile['restarts'];

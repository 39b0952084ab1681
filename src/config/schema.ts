import { isIP } from 'node:net';
import { validate as isCronExpression } from 'node-cron';
import { z } from 'zod';
import { isLoopbackAddress } from '../core/net.js';
import { isSecretReference } from './secret-ref.js';
import { DERIVED_PORT_SPAN } from '../isolation/ports.js';

export { FLAVOURS, INSTANCE_NAMES, type Flavour, type InstanceName } from './names.js';

const MAX_BASE_PORT = 65535 - DERIVED_PORT_SPAN;

const port = z
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(1024, 'must be 1024 or higher (ports below need root)')
  .max(MAX_BASE_PORT, `must be at most ${MAX_BASE_PORT}, so that base+${DERIVED_PORT_SPAN} (the CDP range) still fits`);

const path = z.string().min(1, 'must not be empty');
/** A cron expression (5 or 6 fields, node-cron syntax), or empty for "never". */
const cronExpression = z.string().refine((value) => value === '' || isCronExpression(value), 'must be a cron expression like "0 9 * * *" (or "" for never)');
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
        /** A live Gateway must fail this long (and failureThreshold probes) on a calm machine before it is called hung. */
        hangConfirmMs: duration(0, 600_000).default(4_000),
        /** ... and this long while the machine is busy or in the settle window after a start. */
        busyHangConfirmMs: duration(0, 3_600_000).default(20_000),
        /** After a spawn the Gateway still finishes its start-up work this long: hangs are confirmed with the busy window. */
        settleMs: duration(0, 3_600_000).default(120_000),
        /** A probe lifeguard itself ran later than this (its own scheduling delay) does not count against the Gateway. */
        maxOwnLagMs: duration(100, 60_000).default(1_000),
        /** The machine counts as busy at this much CPU or I/O pressure (Linux PSI `some avg10`, percent of time stalled). */
        busyPressurePercent: z.number().min(1).max(100).default(20),
      })
      .prefault({}),
    restarts: z
      .strictObject({
        maxPerHour: z.number().int().min(0).max(100).default(4),
        crashLoopExits: z.number().int().min(2).max(100).default(5),
        crashLoopWindowMs: duration(10_000, 86_400_000).default(600_000),
      })
      .prefault({}),
    /**
     * Where alerts go: `{ type, name?, minSeverity?, events?, digest?, ...options }` per entry. Entries are
     * checked one by one (src/notify/registry.ts), so one bad entry is reported and the others still work.
     */
    notify: z.array(z.unknown()).default([]),
    alerts: z
      .strictObject({
        /** Repeat an open, unacknowledged incident this often (0 = never). */
        reminderIntervalMs: z.union([z.literal(0), duration(60_000, 7 * 86_400_000)]).default(3_600_000),
        /** Healthy this long after a recovery before the incident is resolved; a relapse inside it continues the incident. */
        resolveAfterMs: duration(0, 3_600_000).default(60_000),
        /** One delivery attempt may take this long. */
        attemptTimeoutMs: duration(1_000, 120_000).default(10_000),
        /** The longest pause between two retries of one delivery (backoff with jitter grows up to it). */
        retryMaxDelayMs: duration(1_000, 3_600_000).default(15_000),
        /** A delivery still failing after this long is given up and recorded as failed. */
        giveUpAfterMs: duration(60_000, 7 * 86_400_000).default(86_400_000),
      })
      .prefault({}),
    guard: z
      .strictObject({
        /** Re-validate the main's config this often even without a file event (edits over NFS, missed events). */
        intervalMs: duration(1_000, 3_600_000).default(30_000),
        /** The flavour's own validator (a Gateway CLI run) may take this long. */
        validateTimeoutMs: duration(5_000, 300_000).default(60_000),
      })
      .prefault({}),
    snapshots: z
      .strictObject({
        /** The main must have been healthy this long on a valid config before its config is snapshotted. */
        healthyForMs: duration(0, 86_400_000).default(300_000),
        /** Also snapshot on this cron schedule (when healthy and valid); empty = never. */
        schedule: cronExpression.default('17 * * * *'),
        keep: z.number().int().min(1).max(1000).default(20),
      })
      .prefault({}),
    escalation: z
      .strictObject({
        /** Automated actions of every rung together (restarts, restores) per sliding hour. */
        maxActionsPerHour: z.number().int().min(0).max(100).default(6),
        /** R1, restart through PM2: attempts per incident, and how long one may take to bring the Gateway back. */
        restartAttempts: z.number().int().min(0).max(10).default(2),
        restartDeadlineMs: duration(10_000, 3_600_000).default(240_000),
        /** R2, restore the last-known-good config: attempts per incident, and how long the restarted Gateway has. */
        restoreAttempts: z.number().int().min(0).max(10).default(1),
        restoreDeadlineMs: duration(10_000, 3_600_000).default(240_000),
      })
      .prefault({}),
    jobs: z
      .strictObject({
        /** Cron expression for the daily digest to providers with `digest: true`; empty = never. */
        digest: cronExpression.default('0 9 * * *'),
        /** Cron expression for the deep check (`health` with `probe: true`, channels included); empty = never. */
        deepCheck: cronExpression.default('*/5 * * * *'),
      })
      .prefault({}),
    handoff: z
      .strictObject({
        /** R3 at all: off, an outage that R1/R2 cannot fix goes straight to paging the owner (R4). */
        enabled: z.boolean().default(true),
        /** R3: how long the rescue bot holds the main (lifeguard takes no automated action on it meanwhile). */
        leaseMs: duration(60_000, 86_400_000).default(600_000),
        /** The rescue must acknowledge (`lifeguard incident ack <id>`) within this, or the incident goes to R4. */
        ackDeadlineMs: duration(10_000, 3_600_000).default(180_000),
        /** Ask the rescue agent to act (needs model credentials in the rescue; failure is recorded, never fatal). */
        wakeAgent: z.boolean().default(true),
      })
      .prefault({}),
    repair: z
      .strictObject({
        /** A repair command waits this long for another one (or lifeguard's own repair) to finish. */
        lockTimeoutMs: duration(1_000, 600_000).default(30_000),
      })
      .prefault({}),
    /** Bounded disk use: log rotation and retention, run by the supervisor on a schedule. */
    housekeeping: z
      .strictObject({
        /** Cron expression of the housekeeping run; empty = never. */
        schedule: cronExpression.default('*/10 * * * *'),
        /** The PM2 log files of the three apps are rotated once larger than this (bytes). */
        logMaxBytes: z.number().int().min(1_048_576).max(10_737_418_240).default(20_971_520),
        /** events.jsonl is rotated once larger than this (bytes). */
        journalMaxBytes: z.number().int().min(65_536).max(1_073_741_824).default(5_242_880),
        /** Rotated files kept per log (`.1` newest); older ones are deleted. */
        keep: z.number().int().min(1).max(100).default(5),
        /** Resolved incidents and settled alert deliveries older than this are deleted. */
        retentionMs: duration(86_400_000, 3_650 * 86_400_000).default(90 * 86_400_000),
      })
      .prefault({}),
    /**
     * Read-only status endpoint for tools: /healthz, /status, /metrics. Off unless a port is set. Loopback
     * by default; any other address only with a bearer token, which every request must then present.
     */
    http: z
      .strictObject({
        port: z.number().int().min(1024, 'must be 1024 or higher').max(65535).optional(),
        host: z.string().refine((host) => host === 'localhost' || isIP(host) !== 0, 'must be an IP address (127.0.0.1, ::1, a Tailscale or LAN address, 0.0.0.0) or "localhost"').default('127.0.0.1'),
        token: z
          .string()
          .refine(
            (token) => isSecretReference(token) || /^[\x21-\x7e]{32,}$/.test(token),
            'must be at least 32 printable characters without spaces (e.g. from `openssl rand -hex 32`), or "${VAR}" to read it from a variable',
          )
          .optional(),
      })
      .superRefine((http, ctx) => {
        if (http.token === undefined && http.host !== 'localhost' && !isLoopbackAddress(http.host)) {
          ctx.addIssue({ code: 'custom', path: ['token'], message: `is required when http.host is not a loopback address (it is "${http.host}"): every request must then present it as a bearer token` });
        }
      })
      .prefault({}),
    /** A dead man's switch (healthchecks.io style): pinged while lifeguard and PM2 are well, `<url>/fail` when PM2 is lost. */
    heartbeat: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
        intervalMs: duration(10_000, 3_600_000).default(60_000),
      })
      .prefault({}),
    /** `/lifeguard` chat commands in the rescue bot. */
    chat: z
      .strictObject({
        /**
         * Sender ids allowed to change things (ack, restore, restart, resolve, pause, resume) where the
         * Gateway cannot tell the owner itself (Clawdbot 2026.1.x), e.g. "telegram:123456789".
         */
        // Compared with the sender as two exact fields, so a typo in case must fail here, not silently.
        ownerIds: z.array(z.string().regex(/^[a-z][a-z0-9_-]*:\S+$/, { error: 'must be "<channel>:<sender id>" with the channel in lower case, e.g. "telegram:123456789"' })).default([]),
      })
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .prefault({});

export type LifeguardConfigInput = z.input<typeof configSchema>;
export type LifeguardConfigFile = z.output<typeof configSchema>;
export type ProbeSettings = LifeguardConfigFile['probes'];
export type RestartPolicy = LifeguardConfigFile['restarts'];
export type AlertSettings = LifeguardConfigFile['alerts'];
export type EscalationSettings = LifeguardConfigFile['escalation'];
export type HousekeepingSettings = LifeguardConfigFile['housekeeping'];

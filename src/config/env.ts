/**
 * The only reader of process.env. Every variable of SPEC §2 is parsed here once, at boot, and a
 * bad value stops the process with one clear line per problem.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration, parseDurationList } from './duration.js';
import { TICKET_PRIORITIES, type TicketPriority } from '../../workflows/vocabulary.js';

/**
 * `.env` for the Node entry points (docker compose reads it on its own): loaded with Node's
 * `process.loadEnvFile` only if the file exists, and a variable already set in the environment
 * wins. Not under NODE_ENV=test, so a developer's .env never leaks into the tests' processes.
 */
export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_ENV === 'test' || !existsSync(file)) return false;
  process.loadEnvFile(file);
  return true;
}

export const EXAMPLE_JWT_SECRET = 'change-me-in-production';
export const EXAMPLE_ADMIN_PASSWORD = 'admin';

const SLA_DEFAULT_MINUTES = {
  critical: { assign: 15, resolve: 240 },
  high: { assign: 30, resolve: 480 },
  medium: { assign: 120, resolve: 1440 },
  low: { assign: 480, resolve: 4320 },
} as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = (fallback: number) =>
  z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be positive').default(fallback);

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });

const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const slaShape = Object.fromEntries(
  TICKET_PRIORITIES.flatMap((p) => [
    [`SLA_${p.toUpperCase()}_ASSIGN`, positiveInt(SLA_DEFAULT_MINUTES[p].assign)],
    [`SLA_${p.toUpperCase()}_RESOLVE`, positiveInt(SLA_DEFAULT_MINUTES[p].resolve)],
  ]),
) as Record<string, ReturnType<typeof positiveInt>>;

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number({ message: 'must be a number' }).int().min(0).max(65535).default(8000),
  DATABASE_URL: postgresUrl.optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('tickets'),
  // workflows each worker keeps in memory (the rest replay from history when touched); default 500
  // (src/worker.ts DEFAULT_MAX_CACHED_WORKFLOWS), where the SDK's grows with the heap limit
  // host:port where a worker process serves the Temporal SDK's Prometheus metrics (off when unset)
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
    .optional(),
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(2, 'must be at least 2')
    .optional(),
  TEMPORAL_CLI_PATH: z.string().optional(),
  // the prebuilt workflow bundle (`npm run build` writes dist/workflow-bundle.js); default that file
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  JWT_SECRET: z.string().min(16, 'must be at least 16 characters').default(EXAMPLE_JWT_SECRET),
  JWT_ALGORITHM: z.enum(['HS256', 'HS384', 'HS512'], { message: 'must be HS256, HS384 or HS512' }).default('HS256'),
  JWT_ISSUER: z.string().min(1).default('servicemeow'),
  JWT_AUDIENCE: z.string().min(1).default('servicemeow-api'),
  ACCESS_TOKEN_EXPIRE_MINUTES: positiveInt(15),
  REFRESH_TOKEN_EXPIRE_DAYS: positiveInt(7),
  DEFAULT_ADMIN_USERNAME: z.string().min(1).default('admin'),
  DEFAULT_ADMIN_PASSWORD: z.string().min(1).default(EXAMPLE_ADMIN_PASSWORD),
  DEFAULT_ADMIN_EMAIL: z.string().email('must be an e-mail address').default('admin@servicemeow.local'),
  UPLOAD_DIR: z.string().min(1).default('.data/uploads'),
  MAX_UPLOAD_SIZE_MB: positiveInt(25),
  ...slaShape,
  RATE_LIMIT_PER_MINUTE: positiveInt(100),
  REDIS_URL: z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL')
    .optional(),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('0s,5s,5m,30m,2h,5h,10h,14h,20h,24h')
    .transform((v, ctx) => {
      try {
        // The first attempt is always made at once; the durations are the waits before each retry.
        // A leading 0s (the Standard Webhooks listing: "immediately, 5s, 5m, …") names that first
        // attempt, so `0s,5s,5m` and `5s,5m` (SPEC §2's form) mean the same three attempts.
        const schedule = parseDurationList(v);
        return schedule[0] === 0 ? schedule : [0, ...schedule];
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  WEBHOOK_DISABLE_AFTER: duration('5d'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // the origin clients reach the server at (OAuth issuer and MCP resource); unset: each request's own
  PUBLIC_URL: z
    .string()
    .refine(
      (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && new URL(v).href === `${new URL(v).origin}/`,
      'must be an origin such as https://desk.example.com (no path)',
    )
    .transform((v) => new URL(v).origin)
    .optional(),
});

/** The configuration's shape, built from the parsed environment: `Config` is its type. */
function configOf(e: z.infer<typeof EnvSchema>) {
  const minutes = e as unknown as Record<string, number>;
  const slaDefaults = Object.fromEntries(
    TICKET_PRIORITIES.map((p) => [
      p,
      {
        assignSeconds: minutes[`SLA_${p.toUpperCase()}_ASSIGN`]! * 60,
        resolveSeconds: minutes[`SLA_${p.toUpperCase()}_RESOLVE`]! * 60,
      },
    ]),
  ) as Record<TicketPriority, { assignSeconds: number; resolveSeconds: number }>;

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      maxCachedWorkflows: e.TEMPORAL_MAX_CACHED_WORKFLOWS,
      workerMetricsAddress: e.WORKER_METRICS_ADDRESS,
      workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    },
    jwt: {
      secret: e.JWT_SECRET,
      algorithm: e.JWT_ALGORITHM,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenMinutes: e.ACCESS_TOKEN_EXPIRE_MINUTES,
      refreshTokenDays: e.REFRESH_TOKEN_EXPIRE_DAYS,
    },
    defaultAdmin: { username: e.DEFAULT_ADMIN_USERNAME, password: e.DEFAULT_ADMIN_PASSWORD, email: e.DEFAULT_ADMIN_EMAIL },
    uploads: { dir: e.UPLOAD_DIR, maxSizeMb: e.MAX_UPLOAD_SIZE_MB },
    slaDefaults,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    redisUrl: e.REDIS_URL,
    webhooks: {
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER,
    },
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL,
  };
}

/** The parsed configuration (its type derives from EnvSchema through configOf). */
export type Config = ReturnType<typeof configOf>;

/** Thrown with every invalid variable listed, one per line. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse an environment (process.env by default) into a frozen Config, or throw ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset": `FOO=` in a .env file should fall back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${JSON.stringify(cleaned[String(i.path[0])])})`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    if (e.JWT_SECRET === EXAMPLE_JWT_SECRET) problems.push('JWT_SECRET: the example secret cannot be used in production');
    if (e.DEFAULT_ADMIN_PASSWORD === EXAMPLE_ADMIN_PASSWORD) {
      problems.push('DEFAULT_ADMIN_PASSWORD: the default admin password cannot be used in production');
    }
  }
  if (problems.length) throw new ConfigError(problems);

  return deepFreeze(configOf(e));
}

/** Config with the connection settings known to be present (the production entry points). */
export type ConnectedConfig = Config & { databaseUrl: string; temporal: Config['temporal'] & { address: string } };

/** Narrow a Config for processes that need DATABASE_URL and TEMPORAL_ADDRESS, or throw. */
export function requireConnections(config: Config): ConnectedConfig {
  const problems: string[] = [];
  if (!config.databaseUrl) problems.push('DATABASE_URL: required (npm start provides an embedded default)');
  if (!config.temporal.address) problems.push('TEMPORAL_ADDRESS: required (npm start provides an embedded default)');
  if (problems.length) throw new ConfigError(problems);
  return config as ConnectedConfig;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { parseSecretKey } from './lib/secret-box.ts';

export type Plan = 'free' | 'pro' | 'enterprise';

export interface PlanLimit {
  /** Requests per hour (the quota reported in X-RateLimit-*). */
  hourly: number;
  /** Requests per minute (the burst cap). */
  burst: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prefix of the keys Sprintlane writes in Redis (SPRINTLANE_REDIS_PREFIX), so that instances of several deployments can share one. */
  redisPrefix: string;
  adminToken: string | undefined;
  adminEmail: string;
  logLevel: string;
  requireHttps: boolean;
  /** Origins allowed to call the API from a browser (SPRINTLANE_CORS_ORIGINS); none: CORS is off. */
  corsOrigins: string[];
  /** The largest request head (request line and headers), in bytes: larger is 431. */
  maxHeaderBytes: number;
  /** How long a client may take to send its request head, and its whole request, in milliseconds (slow clients are cut off with 408). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  trustProxy: string[];
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  allowQueryToken: boolean;
  rateLimit: { enabled: boolean; plans: Record<Plan, PlanLimit>; authFailuresPerMinute: number };
  /** How long a resolved API key stays cached in this process (revocation here is immediate). */
  authCacheMs: number;
  bodyLimit: number;
  /** The largest attachment accepted, in bytes (SPRINTLANE_MAX_UPLOAD_BYTES, default 25 MiB). */
  maxUploadBytes: number;
  /** Statement timeout on PostgreSQL, milliseconds. */
  statementTimeoutMs: number;
  /** Connections in the PostgreSQL pool of this instance. */
  dbPoolSize: number;
  /** PostgreSQL: run queries as named prepared statements (off for poolers that cannot keep them). */
  dbPrepare: boolean;
  webhooks: WebhookConfig;
  /** SPRINTLANE_SECRET_KEY: the key secrets are sealed with at rest; absent: the data directory's. */
  secretKey: Buffer | undefined;
  version: string;
}

export interface WebhookConfig {
  /** SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: targets may be private, loopback or link-local addresses. */
  allowPrivate: boolean;
  /** SPRINTLANE_WEBHOOK_ALLOWED_CIDRS: ranges allowed as targets although private. */
  allowedCidrs: string[];
  /** SPRINTLANE_WEBHOOK_ALLOW_HTTP: plain http targets are allowed. */
  allowHttp: boolean;
  /** How long a delivery may take, in milliseconds (SPRINTLANE_WEBHOOK_TIMEOUT_MS, default 15 s). */
  timeoutMs: number;
  /** Deliveries this instance sends at once (SPRINTLANE_WEBHOOK_CONCURRENCY; 0: it sends none). */
  concurrency: number;
  /** Deliveries in flight to any one endpoint at most (SPRINTLANE_WEBHOOK_ENDPOINT_CONCURRENCY); 1 while it is failing. */
  endpointConcurrency: number;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

export const VERSION = '2.0.0';

/** SPRINTLANE_CORS_ORIGINS: origins such as https://app.example.com, separated by commas; `*` is refused (keys are bearer secrets). */
function origins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of list) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`SPRINTLANE_CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin such as https://app.example.com (scheme, host and port only)`);
  }
  return list;
}

/** SPRINTLANE_WEBHOOK_ALLOWED_CIDRS: ranges such as 10.0.0.0/8 or fd00::/8, separated by commas. */
function cidrs(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of list) {
    if (!ipaddr.isValidCIDR(c)) throw new ConfigError(`SPRINTLANE_WEBHOOK_ALLOWED_CIDRS: ${JSON.stringify(c)} is not a range such as 10.0.0.0/8`);
  }
  return list;
}

function secretKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = parseSecretKey(raw);
  if (!key) throw new ConfigError('SPRINTLANE_SECRET_KEY must be 32 bytes, in base64 (44 characters) or hex (64)');
  return key;
}

/** Reads and validates the environment once, at boot; a bad value stops the server with a clear message. */
export function loadConfig(env: Env = process.env): Config {
  const adminToken = env.SPRINTLANE_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && !/^[A-Za-z0-9_]{32,256}$/.test(adminToken)) {
    throw new ConfigError('SPRINTLANE_ADMIN_TOKEN must be 32 to 256 characters from A-Za-z0-9_');
  }
  const adminEmail = env.SPRINTLANE_ADMIN_EMAIL || 'admin@sprintlane.local';
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) throw new ConfigError('SPRINTLANE_ADMIN_EMAIL must be an email address');
  const tlsCert = env.TLS_CERT || undefined;
  const tlsKey = env.TLS_KEY || undefined;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) throw new ConfigError('TLS_CERT and TLS_KEY must be set together');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent');
  }
  const plan = (name: string, hourly: number, burst: number): PlanLimit => ({
    hourly: int(env, `SPRINTLANE_RATE_LIMIT_${name}_HOURLY`, hourly, 1),
    burst: int(env, `SPRINTLANE_RATE_LIMIT_${name}_BURST`, burst, 1),
  });
  return {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    dataDir: path.resolve(env.SPRINTLANE_DATA_DIR || './data'),
    databaseUrl,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.SPRINTLANE_REDIS_PREFIX || 'sprintlane:',
    adminToken,
    adminEmail,
    logLevel,
    requireHttps: bool(env, 'SPRINTLANE_REQUIRE_HTTPS', false),
    corsOrigins: origins(env.SPRINTLANE_CORS_ORIGINS),
    maxHeaderBytes: int(env, 'SPRINTLANE_MAX_HEADER_BYTES', 16 * 1024, 1024, 1024 * 1024),
    headersTimeoutMs: int(env, 'SPRINTLANE_HEADERS_TIMEOUT_MS', 15_000, 100, 600_000),
    requestTimeoutMs: int(env, 'SPRINTLANE_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000),
    trustProxy: (env.SPRINTLANE_TRUSTED_PROXIES || '').split(',').map((s) => s.trim()).filter(Boolean),
    tlsCert,
    tlsKey,
    allowQueryToken: bool(env, 'SPRINTLANE_ALLOW_QUERY_TOKEN', true),
    rateLimit: {
      enabled: bool(env, 'SPRINTLANE_RATE_LIMIT', true),
      plans: {
        free: plan('FREE', 1000, 100),
        pro: plan('PRO', 10000, 500),
        enterprise: plan('ENTERPRISE', 100000, 5000),
      },
      authFailuresPerMinute: int(env, 'SPRINTLANE_AUTH_FAILURES_PER_MINUTE', 30, 1),
    },
    authCacheMs: int(env, 'SPRINTLANE_AUTH_CACHE_MS', databaseUrl ? 1000 : 60_000),
    bodyLimit: 1024 * 1024,
    maxUploadBytes: int(env, 'SPRINTLANE_MAX_UPLOAD_BYTES', 25 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    statementTimeoutMs: int(env, 'SPRINTLANE_STATEMENT_TIMEOUT_MS', 5000, 1),
    dbPoolSize: int(env, 'SPRINTLANE_DB_POOL_SIZE', 10, 1, 1000),
    dbPrepare: bool(env, 'SPRINTLANE_DB_PREPARE', true),
    webhooks: {
      allowPrivate: bool(env, 'SPRINTLANE_WEBHOOK_ALLOW_PRIVATE', false),
      allowedCidrs: cidrs(env.SPRINTLANE_WEBHOOK_ALLOWED_CIDRS),
      allowHttp: bool(env, 'SPRINTLANE_WEBHOOK_ALLOW_HTTP', false),
      timeoutMs: int(env, 'SPRINTLANE_WEBHOOK_TIMEOUT_MS', 15_000, 100, 300_000),
      concurrency: int(env, 'SPRINTLANE_WEBHOOK_CONCURRENCY', 64, 0, 1000),
      endpointConcurrency: int(env, 'SPRINTLANE_WEBHOOK_ENDPOINT_CONCURRENCY', 16, 1, 1000),
    },
    secretKey: secretKey(env.SPRINTLANE_SECRET_KEY),
    version: VERSION,
  };
}

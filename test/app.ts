// The test harness: a real app on a real database (a clone of the run's migrated template),
// exercised through app.inject. Every response is checked against the schema its route declares.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { inject as provided } from 'vitest';
import { buildApp } from '../src/app.ts';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { openPglite, openPostgres, type Database } from '../src/db/database.ts';
import { createDeps, createLogger, type Deps } from '../src/deps.ts';
import type { App } from '../src/http/app-types.ts';
import { ErrorSchema } from '../src/http/schemas.ts';
import type { Clock } from '../src/lib/clock.ts';
import type { Resolve } from '../src/modules/webhooks/webhook-targets.ts';

const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

export interface TestAppOptions {
  /** Environment overrides, as an operator would set them. */
  env?: Record<string, string>;
  clock?: Clock;
  /** Resolves webhook hosts instead of DNS (names that resolve where a test needs them to). */
  resolveHost?: Resolve;
  /** The jitter factor of webhook retries (default: random around 1). */
  jitter?: () => number;
}

export interface Response<T = any> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
  text: string;
}

export interface RequestOptions {
  method?: string;
  url: string;
  /** API key secret, sent as a Bearer token unless `auth` says otherwise. */
  key?: string;
  body?: unknown;
  /** Send `body` as application/x-www-form-urlencoded (a pre-encoded string is sent as is). */
  form?: boolean;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: App;
  deps: Deps;
  database: Database;
  /** On PostgreSQL: the URL of this app's own database, for server processes that must share it. */
  databaseUrl?: string;
  /** The bootstrap owner's admin key (an instance administrator). */
  adminKey: string;
  /** Everything the server logged, for tests that check what must never be logged. */
  logs: string[];
  request<T = any>(opts: RequestOptions): Promise<Response<T>>;
  close(): Promise<void>;
}

async function openTestDatabase(config: Config): Promise<{ database: Database; url?: string; drop: () => Promise<void> }> {
  const pgTemplate = provided('pgTemplate');
  if (pgTemplate) {
    const name = `sl_${pgTemplate.runId}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgTemplate.url });
    await admin.connect();
    await admin.query(`create database ${name} template ${pgTemplate.template}`);
    await admin.end();
    const u = new URL(pgTemplate.url);
    u.pathname = `/${name}`;
    const database = await openPostgres(u.toString(), config.statementTimeoutMs, 10, config.dbPrepare);
    return {
      database,
      url: u.toString(),
      drop: async () => {
        const a = new pg.Client({ connectionString: pgTemplate.url });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  const tar = readFileSync(provided('pgliteTemplate'));
  const database = await openPglite({ loadDataDir: new Blob([tar]) });
  return { database, drop: async () => {} };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const adminKey = `test_admin_${randomBytes(16).toString('hex')}`;
  // Files the server keeps (attachments) go to a directory of this app's own, removed on close.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sprintlane-test-'));
  const config = loadConfig({
    SPRINTLANE_ADMIN_TOKEN: adminKey,
    LOG_LEVEL: 'info',
    SPRINTLANE_DATA_DIR: dataDir,
    ...(process.env.SPRINTLANE_TEST_DATABASE_URL ? { DATABASE_URL: 'postgres://test' } : {}),
    // With a test Redis, rate limits count there, under keys of this app's own.
    ...(process.env.SPRINTLANE_TEST_REDIS_URL ? { REDIS_URL: process.env.SPRINTLANE_TEST_REDIS_URL, SPRINTLANE_REDIS_PREFIX: `sltest:${randomBytes(6).toString('hex')}:` } : {}),
    ...options.env,
  });
  const { database, url: databaseUrl, drop } = await openTestDatabase(config);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const deps = createDeps(config, database, { clock: options.clock, logger: createLogger(config, sink), resolveHost: options.resolveHost, jitter: options.jitter });
  await bootstrap(deps);

  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(ErrorSchema);
  const compiled = new WeakMap<object, ValidateFunction>();
  const violations = new Map<string, string>();
  const errorValidator = ajv.compile(ErrorSchema);

  const app = await buildApp(deps, {
    instrument(a) {
      a.addHook('onSend', async (request, reply, payload) => {
        const status = reply.statusCode;
        const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
        if (status === 304 || text === undefined || !String(reply.getHeader('content-type') ?? '').includes('json')) return payload;
        const schemas = (request.routeOptions.schema?.response ?? undefined) as Record<string, object> | undefined;
        let validate: ValidateFunction | undefined;
        if (!request.routeOptions.url) validate = errorValidator; // 404/405 from the not-found handler
        else if (schemas) {
          const schema = schemas[String(status)];
          if (!schema) {
            violations.set(String(request.id), `${request.method} ${request.url} answered ${status}, which its route does not declare`);
            return payload;
          }
          validate = compiled.get(schema);
          if (!validate) {
            validate = ajv.compile(schema);
            compiled.set(schema, validate);
          }
        }
        if (validate && !validate(JSON.parse(text))) {
          violations.set(String(request.id), `${request.method} ${request.url} ${status} breaks its declared schema: ${ajv.errorsText(validate.errors)}`);
        }
        return payload;
      });
    },
  });

  return {
    app,
    deps,
    database,
    databaseUrl,
    adminKey,
    logs,
    async request<T>(opts: RequestOptions): Promise<Response<T>> {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
      let payload: string | undefined;
      if (opts.body !== undefined) {
        if (opts.form) {
          headers['content-type'] ??= 'application/x-www-form-urlencoded';
          payload = typeof opts.body === 'string' ? opts.body : new URLSearchParams(opts.body as Record<string, string>).toString();
        } else {
          headers['content-type'] ??= 'application/json';
          payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        }
      }
      const requestId = `req_test${randomBytes(8).toString('hex')}`;
      headers['x-request-id'] ??= requestId;
      const res = await app.inject({ method: (opts.method ?? 'GET') as never, url: opts.url, headers, payload });
      const violation = violations.get(headers['x-request-id']);
      if (violation) {
        violations.delete(headers['x-request-id']);
        throw new Error(violation);
      }
      let body: unknown = undefined;
      const type = String(res.headers['content-type'] ?? '');
      if (res.body && type.includes('json')) body = JSON.parse(res.body);
      return { status: res.statusCode, headers: res.headers, body: body as T, text: res.body };
    },
    async close() {
      await app.close();
      await deps.webhookWorker.stop();
      await database.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

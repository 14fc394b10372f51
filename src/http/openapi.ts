import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { Writable } from 'node:stream';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { createDeps, createLogger } from '../deps.ts';

/**
 * The OpenAPI document exactly as the server serves it, built without a database
 * (route schemas are all it needs). `npm run openapi` writes it to openapi.json.
 */
export async function openApiDocument(): Promise<unknown> {
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const database: Database = {
    kind: 'pglite',
    db,
    runScript: async () => {},
    withLock: (_id, fn) => fn(),
    ping: async () => {},
    close: async () => {},
  };
  const config = loadConfig({});
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  const app = await buildApp(createDeps(config, database, { logger: createLogger(config, silent) }));
  const doc = app.swagger();
  await app.close();
  return doc;
}

export function serialiseOpenApi(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

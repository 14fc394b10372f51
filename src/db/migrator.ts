import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './database.ts';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const MIGRATION_LOCK = 72_650_001;

export async function listMigrations(): Promise<Array<{ name: string; sql: string }>> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(files.map(async (name) => ({ name, sql: await readFile(path.join(MIGRATIONS_DIR, name), 'utf8') })));
}

/**
 * Applies pending raw-SQL migrations in name order, each in its own transaction together with its
 * bookkeeping row, under an advisory lock so several instances starting at once apply each once.
 * Raw SQL (not Kysely's TypeScript migrations) so one set of files serves PGlite and PostgreSQL.
 */
export async function migrate(database: Database): Promise<string[]> {
  const migrations = await listMigrations();
  return database.withLock(MIGRATION_LOCK, async () => {
    const exists = await sql<{ t: string | null }>`select to_regclass('schema_migrations')::text as t`.execute(database.db);
    if (!exists.rows[0]?.t) {
      await database.runScript('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    }
    const rows = await database.db
      .selectFrom('schema_migrations' as never)
      .select('name' as never)
      .execute();
    const applied = new Set(rows.map((r) => (r as { name: string }).name));
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.name)) continue;
      const quoted = m.name.replaceAll("'", "''");
      try {
        await database.runScript(`begin;\n${m.sql}\n;insert into schema_migrations (name) values ('${quoted}');\ncommit;`);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      done.push(m.name);
    }
    return done;
  });
}

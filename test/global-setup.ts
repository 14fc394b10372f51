// Builds one migrated database per test run; every test file clones it (fast) instead of running
// initdb and the migrations again. PGlite: a data-dir dump. PostgreSQL: a template database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openPglite, openPostgres } from '../src/db/database.ts';
import { migrate } from '../src/db/migrator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: { url: string; template: string; runId: string } | null;
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sprintlane-test-'));
  const runId = randomBytes(4).toString('hex');

  const embedded = await openPglite({});
  await migrate(embedded);
  const blob = await embedded.snapshot!();
  await embedded.close();
  const file = path.join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  project.provide('pgliteTemplate', file);

  const url = process.env.SPRINTLANE_TEST_DATABASE_URL;
  let pgTemplate: { url: string; template: string; runId: string } | null = null;
  if (url) {
    const name = `sl_tpl_${runId}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const db = await openPostgres(withDatabase(url, name), 10_000, 2);
    await migrate(db);
    await db.close();
    pgTemplate = { url, template: name, runId };
  }
  project.provide('pgTemplate', pgTemplate);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (url && pgTemplate) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`sl_%${runId}%`]);
      for (const r of rows) await admin.query(`drop database if exists ${r.datname} with (force)`);
      await admin.end();
    }
  };
}

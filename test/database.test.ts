// How the server's PostgreSQL sessions run their statements: prepared once per session and kept on
// their generic plan, unless SPRINTLANE_DB_PREPARE=false (poolers that cannot keep them).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/database.ts';
import { readInParallel } from '../src/db/parallel-reads.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeTask, makeWorld } from './factories.ts';

const postgres = Boolean(process.env.SPRINTLANE_TEST_DATABASE_URL);

/** The statements this session has prepared, and its plan mode, read on one session. */
async function session(t: TestApp): Promise<{ prepared: string[]; planMode: string }> {
  return t.database.db.transaction().execute(async (c) => {
    await c.selectFrom('tasks').select('id').where('id', '=', 'task_none').execute();
    const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(c);
    const mode = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(c);
    return { prepared: prepared.rows.map((r) => r.statement), planMode: mode.rows[0]!.plan_cache_mode };
  });
}

describe.skipIf(!postgres)('PostgreSQL sessions', () => {
  let prepared: TestApp;
  let unprepared: TestApp;
  beforeAll(async () => {
    [prepared, unprepared] = await Promise.all([createTestApp(), createTestApp({ env: { SPRINTLANE_DB_PREPARE: 'false' } })]);
  });
  afterAll(async () => {
    await Promise.all([prepared?.close(), unprepared?.close()]);
  });

  it('prepare each query once and keep its generic plan by default', async () => {
    const s = await session(prepared);
    expect(s.prepared.some((text) => text.includes('from "tasks"'))).toBe(true);
    expect(s.planMode).toBe('force_generic_plan');
  });

  it('prepare nothing with SPRINTLANE_DB_PREPARE=false, and still serve every request', async () => {
    const s = await session(unprepared);
    expect(s.prepared).toEqual([]);
    expect(s.planMode).toBe('auto');
    const { owner, project } = await makeWorld(unprepared);
    const task = await makeTask(unprepared, owner, project.id);
    const listed = await unprepared.request({ url: `/v1/projects/${project.id}/tasks`, key: owner.key });
    expect(listed.body.data.map((x: { id: string }) => x.id)).toEqual([task.id]);
  });

  it('serve reads, writes and transactions started all at once, each seeing what it should', async () => {
    const { owner, project } = await makeWorld(prepared);
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => makeTask(prepared, owner, project.id, { title: `parallel ${i}` })));
    const numbers = created.map((t) => t.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const reads = await Promise.all(created.map((t) => prepared.request({ url: `/v1/tasks/${t.id}`, key: owner.key })));
    expect(reads.map((r) => r.body.data.id)).toEqual(created.map((t) => t.id));
    const listed = await prepared.request({ url: `/v1/projects/${project.id}/tasks?per_page=100`, key: owner.key });
    expect(listed.body.meta.total).toBe(20);
  });

  it('split reads see one snapshot: a write committed after the first began is seen by none of them', async () => {
    const { owner, project } = await makeWorld(prepared);
    await makeTask(prepared, owner, project.id);
    const db = prepared.database.db;
    const count = async (on: typeof db) => (await on.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow()).n;
    let written!: () => void;
    const afterWrite = new Promise<void>((resolve) => (written = resolve));
    const counts = await readInParallel(db, [
      async (tx) => {
        // Committed on another session while both snapshots are already taken.
        await makeTask(prepared, owner, project.id);
        written();
        return count(tx);
      },
      async (tx) => {
        await afterWrite;
        return count(tx);
      },
    ]);
    expect(counts.map(Number)).toEqual([1, 1]);
    expect(Number(await count(db))).toBe(2);
  });

  it('split reports never wait on each other for sessions, however small the pool', async () => {
    for (const size of ['1', '3']) {
      const small = await createTestApp({ env: { SPRINTLANE_DB_POOL_SIZE: size } });
      try {
        const { owner, workspace, project } = await makeWorld(small);
        const task = await makeTask(small, owner, project.id);
        const logged = await small.request({
          method: 'POST',
          url: '/time-trackings',
          key: owner.key,
          body: { company_slug: workspace.slug, project_slug: project.slug, task_uuid: task.uuid, started_at: '2026-11-02T09:00:00Z', ended_at: '2026-11-02T10:00:00Z' },
        });
        expect(logged.status).toBe(201);
        const url = `/time-trackings/analytics?company_slug=${workspace.slug}&project_slug=${project.slug}&start=2026-11-01&end=2026-11-30&tz=UTC`;
        const answers = await Promise.all(Array.from({ length: 10 }, () => small.request({ url, key: owner.key })));
        expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
        expect(answers.map((a) => a.body.data.total_seconds)).toEqual(Array(10).fill(3600));
      } finally {
        await small.close();
      }
    }
  });

  it('replace a session the server ends, so that later requests succeed', async () => {
    const { owner, project } = await makeWorld(prepared);
    const task = await makeTask(prepared, owner, project.id);
    const admin = new pg.Client({ connectionString: process.env.SPRINTLANE_TEST_DATABASE_URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>('select current_database() as datname');
      const db = (await sql<{ name: string }>`select current_database() as name`.execute(prepared.database.db)).rows[0]!.name;
      expect(db).not.toBe(rows[0]!.datname);
      const ended = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [db]);
      expect(ended.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // A request on an ended session gets a 503 to retry, never a 500; new ones open new sessions.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      const res = await prepared.request({ url: `/v1/tasks/${task.id}`, key: owner.key });
      status = res.status;
      if (status !== 200) {
        expect(res.body).toMatchObject({ error: { code: 'DATABASE_UNAVAILABLE' } });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(status).toBe(200);
  });
});

describe('statements', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('in transactions run with the isolation level and access mode they ask for, and plain ones with the defaults', async () => {
    const settings = await t.database.db
      .transaction()
      .setIsolationLevel('serializable')
      .setAccessMode('read only')
      .execute(async (tx) => (await sql<{ i: string; r: string }>`select current_setting('transaction_isolation') as i, current_setting('transaction_read_only') as r`.execute(tx)).rows[0]);
    expect(settings).toEqual({ i: 'serializable', r: 'on' });
    const plain = await t.database.db
      .transaction()
      .execute(async (tx) => (await sql<{ i: string; r: string }>`select current_setting('transaction_isolation') as i, current_setting('transaction_read_only') as r`.execute(tx)).rows[0]);
    expect(plain).toEqual({ i: 'read committed', r: 'off' });
  });

  it('give rows that carry every column as an own property, the last of duplicate names winning, and never a prototype', async () => {
    const { rows } = await sql<Record<string, unknown>>`select 1 as a, 'x' as "__proto__", 2 as a, null::text as "odd ""name""", 'y' as "constructor"`.execute(t.database.db);
    const row = rows[0]!;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(['a', '__proto__', 'odd "name"', 'constructor']);
    expect(row.a).toBe(2);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x');
    expect(row['odd "name"']).toBeNull();
    expect(row.constructor).toBe('y');
  });

  it("report the database's own message and code for a failed statement", async () => {
    const failure = await sql`select 1 / 0`.execute(t.database.db).catch((err: unknown) => err);
    expect(failure).toMatchObject({ name: 'DatabaseError', code: '22012', message: 'division by zero' });
  });

  it('read text arrays with quoted, escaped and null elements as PostgreSQL wrote them', async () => {
    const values = [[], ['bug'], ['bug', 'ux'], ['a b', 'c,d', 'NULL', '', 'say "hi"', 'back\\slash', '{x}', 'ünï'], ['x', null]];
    for (const v of values) {
      const { rows } = await sql<{ v: Array<string | null> }>`select ${v}::text[] as v`.execute(t.database.db);
      expect(rows[0]!.v).toEqual(v);
    }
  });
});

describe.skipIf(postgres)('the embedded database', () => {
  it('opened on a data dir it cannot use, fails every query with the reason, and still closes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sprintlane-bad-'));
    const file = path.join(dir, 'pgdata');
    writeFileSync(file, 'not a data directory');
    try {
      // openPglite returns before the worker is ready (see main.ts): the failure comes with the queries.
      const database = await openPglite({ dataDir: file });
      const reason = `the embedded database did not start in ${file}: ErrnoError (errno`;
      for (let i = 0; i < 2; i++) await expect(sql`select 1`.execute(database.db)).rejects.toThrow(reason);
      await expect(database.runScript('select 1')).rejects.toThrow();
      await database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

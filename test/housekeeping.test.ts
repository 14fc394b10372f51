// The embedded database has no autovacuum: the server's housekeeping does that work, so that
// counts stay index-only scans and dead rows are reclaimed. PostgreSQL runs its own autovacuum.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VACUUM_AFTER_MS, VACUUM_AFTER_WAL_BYTES, VACUUM_MIN_WAL_BYTES } from '../src/db/database.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeWorld, type Actor } from './factories.ts';

const embedded = !process.env.SPRINTLANE_TEST_DATABASE_URL;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

/**
 * Pages of the tasks table not yet marked all-visible: an index-only scan must read each of them.
 * Vacuum marks them, and analyze records the table's size for the planner.
 */
async function unvacuumedPages(): Promise<{ notAllVisible: number; reltuples: number }> {
  const r = await sql<{ pages: number; relallvisible: number; reltuples: number }>`
    select (pg_relation_size(oid) / current_setting('block_size')::int)::int as pages, relallvisible, reltuples
    from pg_class where relname = 'tasks'`.execute(t.database.db);
  const row = r.rows[0]!;
  return { notAllVisible: row.pages - row.relallvisible, reltuples: row.reltuples };
}

/**
 * Creates tasks through the API, 100 at a time in parallel, each with `size` characters of random
 * description (random, so that compression does not shrink what is written).
 */
async function createTasks(owner: Actor, projectId: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => {
      const description = randomBytes(size).toString('base64').slice(0, size);
      return t.request({ method: 'POST', url: `/v1/projects/${projectId}/tasks`, key: owner.key, body: { title: `Task ${i + j}`, priority: 'high', description } });
    });
    for (const res of await Promise.all(batch)) expect(res.status).toBe(201);
  }
}

describe.skipIf(!embedded)('embedded database housekeeping', () => {
  it('does nothing while little has been written, and vacuums once enough has, so index-only scans read no table pages', async () => {
    const { owner, project } = await makeWorld(t);
    await t.database.housekeep!(Date.now() + VACUUM_AFTER_MS); // whatever the setup wrote
    await createTasks(owner, project.id, 5, 100);
    const quiet = await t.database.housekeep!();
    expect(quiet.vacuumed).toBe(false);
    expect(quiet.walBytes).toBeGreaterThan(0);

    // 1000 tasks of 5 KiB: well past the threshold.
    await createTasks(owner, project.id, 1000, 5000);
    const before = await unvacuumedPages();
    expect(before.notAllVisible).toBeGreaterThan(0);

    const done = await t.database.housekeep!();
    expect(done.vacuumed).toBe(true);
    expect(done.walBytes).toBeGreaterThanOrEqual(VACUUM_AFTER_WAL_BYTES);
    const after = await unvacuumedPages();
    expect(after.notAllVisible).toBe(0);
    expect(after.reltuples).toBeGreaterThanOrEqual(1005);
    // The vacuum's own writes are not a reason for another.
    expect((await t.database.housekeep!()).vacuumed).toBe(false);

    const listed = await t.request({ url: `/v1/projects/${project.id}/tasks?priority=high&per_page=1`, key: owner.key });
    expect(listed.body.meta.total).toBe(1005);
  });

  it('never vacuums when nothing was written, and vacuums after a few writes once enough time has passed', async () => {
    const { owner, project } = await makeWorld(t);
    const start = Date.now();
    await createTasks(owner, project.id, 40, 2000);
    expect((await t.database.housekeep!(start + VACUUM_AFTER_MS)).vacuumed).toBe(true);
    expect((await t.database.housekeep!(start + 10 * VACUUM_AFTER_MS)).vacuumed).toBe(false);

    await createTasks(owner, project.id, 40, 2000);
    const soon = await t.database.housekeep!(start + VACUUM_AFTER_MS + 1000);
    expect(soon.vacuumed).toBe(false);
    expect(soon.walBytes).toBeGreaterThanOrEqual(VACUUM_MIN_WAL_BYTES);
    expect(soon.walBytes).toBeLessThan(VACUUM_AFTER_WAL_BYTES);
    expect((await t.database.housekeep!(start + 2 * VACUUM_AFTER_MS)).vacuumed).toBe(true);
  });
});

// The embedded database has no autovacuum: the server's housekeeping does that work, so that
// counts stay index-only scans and dead rows are reclaimed. PostgreSQL runs its own autovacuum.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VACUUM_AFTER_MS, VACUUM_AFTER_ROWS } from '../src/db/database.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeWorld } from './factories.ts';

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

describe.skipIf(!embedded)('embedded database housekeeping', () => {
  it('does nothing while too few rows have changed, and vacuums once enough have, so index-only scans read no table pages', async () => {
    const { owner, project } = await makeWorld(t);
    await t.database.housekeep!(); // whatever the setup changed
    expect((await t.database.housekeep!()).vacuumed).toBe(false);

    for (let i = 0; i < VACUUM_AFTER_ROWS; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) =>
        t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: `Task ${i + j}`, priority: 'high' } }),
      );
      for (const res of await Promise.all(batch)) expect(res.status).toBe(201);
    }
    const before = await unvacuumedPages();
    expect(before.notAllVisible).toBeGreaterThan(0);

    const done = await t.database.housekeep!();
    expect(done.vacuumed).toBe(true);
    // Each create changes the task row, its event row and the project's task counter.
    expect(done.changedRows).toBeGreaterThanOrEqual(VACUUM_AFTER_ROWS);
    const after = await unvacuumedPages();
    expect(after.notAllVisible).toBe(0);
    expect(after.reltuples).toBeGreaterThanOrEqual(VACUUM_AFTER_ROWS);
    expect((await t.database.housekeep!()).vacuumed).toBe(false);

    const listed = await t.request({ url: `/v1/projects/${project.id}/tasks?priority=high&per_page=1`, key: owner.key });
    expect(listed.body.meta.total).toBe(VACUUM_AFTER_ROWS);
  });

  it('vacuums after a few changes once enough time has passed', async () => {
    const { owner, project } = await makeWorld(t);
    await t.database.housekeep!(Date.now() + VACUUM_AFTER_MS); // the setup's changes
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'One change' } });
    expect(res.status).toBe(201);
    expect((await t.database.housekeep!(Date.now() + VACUUM_AFTER_MS)).vacuumed).toBe(false);
    expect((await t.database.housekeep!(Date.now() + 2 * VACUUM_AFTER_MS + 1)).vacuumed).toBe(true);
  });
});

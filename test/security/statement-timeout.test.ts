// A runaway query on PostgreSQL ends at the statement timeout with a 503 to retry, never a hang
// or a 500, and the server goes on serving.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../assertions.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { makeWorld, type Actor } from '../factories.ts';

const postgres = Boolean(process.env.SPRINTLANE_TEST_DATABASE_URL);

describe.skipIf(!postgres)('statement timeout', () => {
  let t: TestApp;
  let owner: Actor;
  beforeAll(async () => {
    t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false', SPRINTLANE_STATEMENT_TIMEOUT_MS: '50' } });
    const world = await makeWorld(t);
    owner = world.owner;
    // Enough tasks that sorting them all by title takes far longer than 50 ms.
    await t.database.db.transaction().execute(async (tx) => {
      await sql`set local statement_timeout = 0`.execute(tx);
      await sql`
        insert into tasks (id, uuid, workspace_id, project_id, number, title, status, created_at, updated_at)
        select 'task_seed' || n, gen_random_uuid(), ${world.workspace.id}, ${world.project.id}, n + 1000, md5(n::text), 'backlog', now(), now()
        from generate_series(1, 300000) n`.execute(tx);
    });
  }, 300_000);
  afterAll(async () => {
    await t?.close();
  });

  it('answers a query that runs past SPRINTLANE_STATEMENT_TIMEOUT_MS with 503 TIMEOUT, and serves the next request', async () => {
    const started = Date.now();
    const slow = await t.request({ url: '/v1/tasks?sort=title&order=asc&per_page=100&page=3000', key: owner.key });
    expectError(slow, 503, 'TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await t.request({ url: '/v1/workspaces', key: owner.key })).status).toBe(200);
  });
});

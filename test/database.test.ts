// How the server's PostgreSQL sessions run their statements: prepared once per session and kept on
// their generic plan, unless SPRINTLANE_DB_PREPARE=false (poolers that cannot keep them).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { makeTask, makeWorld } from './factories.ts';

const postgres = Boolean(process.env.SPRINTLANE_TEST_DATABASE_URL);

/** The statements this session has prepared, and its plan mode, read on one pooled connection. */
async function session(t: TestApp): Promise<{ prepared: string[]; planMode: string }> {
  return t.database.db.connection().execute(async (c) => {
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
});

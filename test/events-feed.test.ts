// The change feed: every event of the caller's workspaces, in the order they became visible, with a
// cursor that never skips or repeats one, deletions included.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeProject, makeTask, makeWorld, unique, type Actor } from './factories.ts';

const postgres = Boolean(process.env.SPRINTLANE_TEST_DATABASE_URL);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function feed(by: Actor, query = '') {
  const res = await t.request({ url: `/v1/events${query ? `?${query}` : ''}`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res.body as { data: Array<{ id: string; type: string; resource_id: string; data: Record<string, unknown>; changes: unknown; actor: { user_id: string | null; key_id: string | null } }>; meta: { next_cursor: string; has_more: boolean } };
}

/** Every event after `cursor`, page by page. */
async function drain(by: Actor, cursor: string | undefined, query = '', limit = 2) {
  const out: Array<{ id: string; type: string; resource_id: string }> = [];
  let after = cursor;
  for (let i = 0; i < 100; i++) {
    const page = await feed(by, [`limit=${limit}`, query, after ? `after=${encodeURIComponent(after)}` : ''].filter(Boolean).join('&'));
    out.push(...page.data);
    after = page.meta.next_cursor;
    if (!page.meta.has_more) return { events: out, cursor: after };
  }
  throw new Error('the feed did not end');
}

describe('the change feed', () => {
  it("pages through the caller's events in order with a cursor, deletions included as tombstones, none repeated", async () => {
    const { owner, project } = await makeWorld(t);
    const start = (await feed(owner)).meta.next_cursor;
    const a = await makeTask(t, owner, project.id, { title: 'first' });
    const b = await makeTask(t, owner, project.id, { title: 'second' });
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${a.id}`, key: owner.key, body: { title: 'first, renamed' } })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${b.id}`, key: owner.key })).status).toBe(200);

    const { events, cursor } = await drain(owner, undefined);
    const mine = events.filter((e) => e.resource_id === a.id || e.resource_id === b.id);
    expect(mine.map((e) => `${e.type} ${e.resource_id === a.id ? 'a' : 'b'}`)).toEqual(['task.created a', 'task.created b', 'task.updated a', 'task.deleted b']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const full = await feed(owner, `after=${encodeURIComponent(start)}&limit=10`);
    const updated = full.data.find((e) => e.type === 'task.updated')!;
    expect(updated.changes).toEqual({ title: { from: 'first', to: 'first, renamed' } });
    expect(updated.actor).toEqual({ user_id: owner.userId, key_id: owner.keyId });
    const tombstone = full.data.find((e) => e.type === 'task.deleted')!;
    expect(tombstone.data).toMatchObject({ id: b.id, title: 'second' });

    // Caught up: the same cursor comes back, and new events follow it.
    const idle = await feed(owner, `after=${encodeURIComponent(cursor)}`);
    expect(idle.data).toEqual([]);
    expect(idle.meta).toEqual({ next_cursor: cursor, has_more: false });
    const c = await makeTask(t, owner, project.id);
    const next = await feed(owner, `after=${encodeURIComponent(cursor)}`);
    expect(next.data.map((e) => e.resource_id)).toEqual([c.id]);
  });

  it("shows nobody another workspace's events, filters by workspace and by type with wildcards", async () => {
    const mine = await makeWorld(t);
    const theirs = await makeWorld(t);
    const task = await makeTask(t, mine.owner, mine.project.id);
    const sprint = await t.request({ method: 'POST', url: `/v1/projects/${mine.project.id}/sprints`, key: mine.owner.key, body: { name: unique('S ') } });
    expect(sprint.status).toBe(201);
    const entry = await t.request({ method: 'POST', url: '/v1/time-entries', key: mine.owner.key, body: { task_id: task.id, duration_minutes: 15 } });
    expect(entry.status, entry.text).toBe(201);
    await makeTask(t, theirs.owner, theirs.project.id);

    const all = await drain(mine.owner, undefined, '', 100);
    expect(all.events.every((e) => !JSON.stringify(e).includes(theirs.workspace.id))).toBe(true);
    const tasksOnly = await drain(mine.owner, undefined, 'types=task.*', 100);
    expect(tasksOnly.events.length).toBeGreaterThan(0);
    expect(tasksOnly.events.every((e) => e.type.startsWith('task.'))).toBe(true);
    const two = await drain(mine.owner, undefined, 'types=sprint.created,time_entry.created', 100);
    expect(new Set(two.events.map((e) => e.type))).toEqual(new Set(['sprint.created', 'time_entry.created']));

    const scoped = await drain(mine.owner, undefined, `workspace_id=${mine.workspace.id}`, 100);
    expect(scoped.events.length).toBe(all.events.filter((e) => JSON.stringify(e).includes(mine.workspace.id)).length);
    expectError(await t.request({ url: `/v1/events?workspace_id=${theirs.workspace.id}`, key: mine.owner.key }), 404, 'NOT_FOUND');
    // A cursor is bound to the filter it was read with.
    const theirCursor = (await feed(theirs.owner, `workspace_id=${theirs.workspace.id}`)).meta.next_cursor;
    expectError(await t.request({ url: `/v1/events?after=${encodeURIComponent(theirCursor)}`, key: mine.owner.key }), 400, 'INVALID_CURSOR', 'after');
    expectError(await t.request({ url: `/v1/events?workspace_id=${mine.workspace.id}&after=${encodeURIComponent(theirCursor)}`, key: mine.owner.key }), 400, 'INVALID_CURSOR', 'after');
  });

  it('refuses malformed cursors, types and limits with a clear 400', async () => {
    const { owner } = await makeWorld(t);
    const before = await fingerprint(t.database.db);
    for (const bad of ['nonsense', Buffer.from('v1:-1:*').toString('base64url'), Buffer.from('v1:12:ws_x;drop').toString('base64url'), 'x'.repeat(201)]) {
      const res = await t.request({ url: `/v1/events?after=${encodeURIComponent(bad)}`, key: owner.key });
      expectError(res, 400, undefined, 'after');
    }
    for (const bad of ['task', 'task.*.x', '*', "task.created' or 1=1", Array.from({ length: 51 }, (_, i) => `t.e${String.fromCharCode(97 + (i % 26))}${i}`).join(',')]) {
      expectError(await t.request({ url: `/v1/events?types=${encodeURIComponent(bad)}`, key: owner.key }), 400, undefined, 'types');
    }
    for (const n of ['0', '1001', 'x']) expectError(await t.request({ url: `/v1/events?limit=${n}`, key: owner.key }), 400, undefined, 'limit');
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it("gives a project key only its project's events", async () => {
    const { owner, project } = await makeWorld(t);
    const other = await makeProject(t, owner, project.workspace_id);
    const inside = await makeTask(t, owner, project.id);
    const outside = await makeTask(t, owner, other.id);
    const created = await t.request({ method: 'POST', url: '/v1/api-keys', key: owner.key, body: { name: 'project key', project_id: project.id } });
    expect(created.status).toBe(201);
    const key = { ...owner, key: created.body.data.secret as string };
    const { events } = await drain(key, undefined, '', 100);
    const ids = events.map((e) => e.resource_id);
    expect(ids).toContain(inside.id);
    expect(ids).not.toContain(outside.id);
    expect(ids).not.toContain(other.id);
  });

  it.skipIf(!postgres)('holds back events committed after an older transaction that is still open, then gives them in order: a cursor never skips', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const start = (await drain(owner, undefined, '', 1000)).cursor;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    // An older transaction writes its event first (a lower seq), and commits last.
    const slow = t.database.db.transaction().execute(async (tx) => {
      await sql`insert into events (id, workspace_id, project_id, type, resource_type, resource_id, data)
                values (${`evt_${unique('slow').replace(/[^A-Za-z0-9]/g, '')}`}, ${workspace.id}, ${project.id}, 'probe.slow', 'probe', 'slow', '{}'::jsonb)`.execute(tx);
      written();
      await released;
    });
    await wrote;
    const quick = await makeTask(t, owner, project.id);
    const during = await feed(owner, `after=${encodeURIComponent(start)}`);
    expect(during.data.map((e) => e.resource_id)).not.toContain(quick.id);
    release();
    await slow;
    const after = await feed(owner, `after=${encodeURIComponent(during.meta.next_cursor)}`);
    expect(after.data.map((e) => e.resource_id)).toEqual(['slow', quick.id]);
  });
});

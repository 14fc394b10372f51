// Subtasks: a task's parent is another task of its project that is not a subtask itself; the
// parent's progress counts its subtasks and the finished ones, kept by the database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeProject, makeTask, makeWorld, type Actor } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function get(by: Actor, id: string) {
  const res = await t.request({ url: `/v1/tasks/${id}`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res;
}

function patch(by: Actor, id: string, body: Record<string, unknown>) {
  return t.request({ method: 'PATCH', url: `/v1/tasks/${id}`, key: by.key, body });
}

describe('subtasks', () => {
  it("counts a parent's subtasks and the finished ones as they are created, moved, reparented and deleted, with a new ETag each time", async () => {
    const { owner, project } = await makeWorld(t);
    const parent = await makeTask(t, owner, project.id, { title: 'Epic' });
    expect(parent.progress).toEqual({ subtasks: 0, completed: 0, percent: null });
    const a = await makeTask(t, owner, project.id, { parent_id: parent.id });
    const b = await makeTask(t, owner, project.id, { parent_id: parent.id, status: 'done' });
    expect(a.parent_id).toBe(parent.id);
    let got = await get(owner, parent.id);
    expect(got.body.data.progress).toEqual({ subtasks: 2, completed: 1, percent: 50 });
    const etag = got.headers.etag;
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${a.id}/move`, key: owner.key, body: { status: 'done' } })).status).toBe(200);
    got = await get(owner, parent.id);
    expect(got.body.data.progress).toEqual({ subtasks: 2, completed: 2, percent: 100 });
    expect(got.headers.etag).not.toBe(etag);
    const c = await makeTask(t, owner, project.id);
    expect((await patch(owner, c.id, { parent_id: parent.id })).status).toBe(200);
    expect((await get(owner, parent.id)).body.data.progress).toEqual({ subtasks: 3, completed: 2, percent: 66 });
    expect((await patch(owner, b.id, { parent_id: null })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${c.id}`, key: owner.key })).status).toBe(200);
    expect((await get(owner, parent.id)).body.data.progress).toEqual({ subtasks: 1, completed: 1, percent: 100 });
    const listed = await t.request({ url: `/v1/projects/${project.id}/tasks?parent=${parent.id}`, key: owner.key });
    expect(listed.body.data.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const top = await t.request({ url: `/v1/projects/${project.id}/tasks?parent=none&sort=number&order=asc`, key: owner.key });
    expect(top.body.data.map((x: { id: string }) => x.id)).toEqual([parent.id, b.id]);
    // A change of a column's category counts again.
    expect((await t.request({ method: 'PATCH', url: `/v1/projects/${project.id}/statuses/done`, key: owner.key, body: { category: 'in_progress' } })).status).toBe(200);
    expect((await get(owner, parent.id)).body.data.progress).toEqual({ subtasks: 1, completed: 0, percent: 0 });
    // Deleting the parent leaves its subtasks as tasks.
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${parent.id}`, key: owner.key })).status).toBe(200);
    expect((await get(owner, a.id)).body.data.parent_id).toBeNull();
  });

  it('keeps subtasks one level deep and within their project, on every route, changing nothing when refused', async () => {
    const { owner, project } = await makeWorld(t);
    const other = await makeProject(t, owner, project.workspace_id);
    const elsewhere = await makeTask(t, owner, other.id);
    const parent = await makeTask(t, owner, project.id);
    const child = await makeTask(t, owner, project.id, { parent_id: parent.id });
    const loose = await makeTask(t, owner, project.id);
    const before = await fingerprint(t.database.db);
    expectError(await patch(owner, loose.id, { parent_id: child.id }), 422, 'PARENT_IS_SUBTASK', 'parent_id');
    expectError(await patch(owner, parent.id, { parent_id: loose.id }), 422, 'HAS_SUBTASKS', 'parent_id');
    expectError(await patch(owner, loose.id, { parent_id: loose.id }), 422, 'INVALID_PARENT', 'parent_id');
    expectError(await patch(owner, loose.id, { parent_id: elsewhere.id }), 422, 'INVALID_PARENT', 'parent_id');
    expectError(await patch(owner, loose.id, { parent_id: 'task_doesnotexist' }), 422, 'INVALID_PARENT', 'parent_id');
    for (const parent_id of [child.id, elsewhere.id, 'task_doesnotexist']) {
      expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', parent_id } }), 422);
    }
    const batch = await t.request({ method: 'PATCH', url: '/v1/tasks/batch', key: owner.key, body: { tasks: [{ id: loose.id, parent_id: child.id }] } });
    expect(batch.body.error.details.errors[0].error.code).toBe('PARENT_IS_SUBTASK');
    expect(await fingerprint(t.database.db)).toEqual(before);
    // Within one batch: making a task a subtask of one that becomes a subtask in the same batch.
    const x = await makeTask(t, owner, project.id);
    const y = await makeTask(t, owner, project.id);
    const before2 = await fingerprint(t.database.db);
    const chain = await t.request({ method: 'PATCH', url: '/v1/tasks/batch', key: owner.key, body: { tasks: [{ id: x.id, parent_id: y.id }, { id: y.id, parent_id: parent.id }] } });
    expectError(chain, 422, 'BATCH_REJECTED');
    expect(chain.body.error.details.errors.map((e: any) => e.error.code)).toEqual(['PARENT_IS_SUBTASK', 'HAS_SUBTASKS']);
    expect(await fingerprint(t.database.db)).toEqual(before2);
    const made = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks/batch`, key: owner.key, body: { tasks: [{ title: 's1', parent_id: parent.id }, { title: 's2', parent_id: parent.id }] } });
    expect(made.status, made.text).toBe(201);
    expect((await get(owner, parent.id)).body.data.progress.subtasks).toBe(3);
  });

  it('counts exactly when many subtasks of one parent are created at once, without a deadlock', async () => {
    const { owner, project } = await makeWorld(t);
    const parent = await makeTask(t, owner, project.id);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: `s${i}`, parent_id: parent.id, status: i % 3 ? 'todo' : 'done' } })));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    expect((await get(owner, parent.id)).body.data.progress).toEqual({ subtasks: 12, completed: 4, percent: 33 });
  });
});

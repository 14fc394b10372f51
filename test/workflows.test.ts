// Workflows: a project's board columns (key, name, category, WIP limit) in order; tasks move
// between its columns only, ordered within a column; a column with tasks goes only with a target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeProject, makeTask, makeUser, makeWorld, unique, type Actor } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function columns(by: Actor, projectId: string) {
  const res = await t.request({ url: `/v1/projects/${projectId}/statuses`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res.body.data as Array<{ key: string; name: string; category: string; wip_limit: number | null; position: number; task_count: number; id: string }>;
}

function addColumn(by: Actor, projectId: string, body: Record<string, unknown>) {
  return t.request({ method: 'POST', url: `/v1/projects/${projectId}/statuses`, key: by.key, body });
}

function patchColumn(by: Actor, projectId: string, key: string, body: Record<string, unknown>, headers?: Record<string, string>) {
  return t.request({ method: 'PATCH', url: `/v1/projects/${projectId}/statuses/${key}`, key: by.key, body, headers });
}

function removeColumn(by: Actor, projectId: string, key: string, query = '') {
  return t.request({ method: 'DELETE', url: `/v1/projects/${projectId}/statuses/${key}${query}`, key: by.key });
}

function move(by: Actor, taskId: string, body: Record<string, unknown>) {
  return t.request({ method: 'PATCH', url: `/v1/tasks/${taskId}/move`, key: by.key, body });
}

async function project(by: Actor, id: string) {
  return (await t.request({ url: `/v1/projects/${id}`, key: by.key })).body.data;
}

describe('workflows', () => {
  it('gives a new project the default columns, with categories, names, places and task counts', async () => {
    const { owner, project: p } = await makeWorld(t);
    await makeTask(t, owner, p.id);
    expect((await columns(owner, p.id)).map((c) => [c.key, c.name, c.category, c.position, c.wip_limit, c.task_count])).toEqual([
      ['backlog', 'Backlog', 'todo', 0, null, 1],
      ['todo', 'To do', 'todo', 1, null, 0],
      ['in_progress', 'In progress', 'in_progress', 2, null, 0],
      ['review', 'Review', 'in_progress', 3, null, 0],
      ['done', 'Done', 'done', 4, null, 0],
    ]);
  });

  it('adds, renames, limits and reorders columns; the project lists its statuses in board order, each change with its event', async () => {
    const { owner, project: p } = await makeWorld(t);
    const added = await addColumn(owner, p.id, { key: 'qa', name: 'QA', category: 'in_progress', position: 3 });
    expect(added.status, added.text).toBe(201);
    expect(added.body.data).toMatchObject({ key: 'qa', name: 'QA', category: 'in_progress', position: 3, wip_limit: null, task_count: 0, project_id: p.id });
    expect((await project(owner, p.id)).statuses).toEqual(['backlog', 'todo', 'in_progress', 'qa', 'review', 'done']);
    const last = await addColumn(owner, p.id, { key: 'shipped', name: 'Shipped', category: 'done' });
    expect(last.status, last.text).toBe(201);
    expect(last.body.data.position).toBe(6);

    const moved = await patchColumn(owner, p.id, 'shipped', { position: 0, name: 'Released', wip_limit: 5 });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.data).toMatchObject({ key: 'shipped', name: 'Released', position: 0, wip_limit: 5 });
    expect((await columns(owner, p.id)).map((c) => [c.key, c.position])).toEqual([
      ['shipped', 0], ['backlog', 1], ['todo', 2], ['in_progress', 3], ['qa', 4], ['review', 5], ['done', 6],
    ]);
    expect((await project(owner, p.id)).statuses).toEqual(['shipped', 'backlog', 'todo', 'in_progress', 'qa', 'review', 'done']);
    const down = await patchColumn(owner, p.id, 'shipped', { position: 40 });
    expect(down.body.data.position).toBe(6);
    expect((await project(owner, p.id)).statuses).toEqual(['backlog', 'todo', 'in_progress', 'qa', 'review', 'done', 'shipped']);
    const events = await t.database.db.selectFrom('events').select(['type', 'changes']).where('project_id', '=', p.id).where('type', 'in', ['status.created', 'status.updated', 'project.updated']).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['status.created', 'project.updated', 'status.created', 'project.updated', 'status.updated', 'project.updated', 'status.updated', 'project.updated']);
    expect(events[4]!.changes).toEqual({ name: { from: 'Shipped', to: 'Released' }, wip_limit: { from: null, to: 5 }, position: { from: 6, to: 0 } });
    // One column, with its ETag; If-Match on a column.
    const one = await t.request({ url: `/v1/projects/${p.id}/statuses/qa`, key: owner.key });
    expect(one.body.data).toMatchObject({ key: 'qa', name: 'QA', position: 3 });
    expect(one.headers.etag).toBeTruthy();
    expectError(await t.request({ url: `/v1/projects/${p.id}/statuses/nope`, key: owner.key }), 404, 'NOT_FOUND');
    const stale = await patchColumn(owner, p.id, 'qa', { name: 'Quality' }, { 'if-match': '"v99"' });
    expectError(stale, 412, 'PRECONDITION_FAILED');
  });

  it('refuses a duplicate key or name, a bad key, and a status of another project, changing nothing', async () => {
    const { owner, project: p } = await makeWorld(t);
    const other = await makeProject(t, owner, p.workspace_id);
    expect((await addColumn(owner, other.id, { key: 'staging', name: 'Staging', category: 'in_progress' })).status).toBe(201);
    const task = await makeTask(t, owner, p.id);
    const before = await fingerprint(t.database.db);
    expectError(await addColumn(owner, p.id, { key: 'todo', name: 'Another', category: 'todo' }), 409, 'KEY_TAKEN', 'key');
    expectError(await addColumn(owner, p.id, { key: 'later', name: 'to DO', category: 'todo' }), 409, 'NAME_TAKEN', 'name');
    for (const key of ['In Progress', '-x', 'a'.repeat(51), '']) expectError(await addColumn(owner, p.id, { key, name: unique('N'), category: 'todo' }), 400, undefined, 'key');
    expectError(await addColumn(owner, p.id, { key: 'ok', name: 'Ok', category: 'finished' }), 400, undefined, 'category');
    expectError(await patchColumn(owner, p.id, 'nope', { name: 'x' }), 404, 'NOT_FOUND');
    // Moving to another project's column is refused, whatever the route.
    expectError(await move(owner, task.id, { status: 'staging' }), 422, 'INVALID_STATUS', 'status');
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { status: 'staging' } }), 422, 'INVALID_STATUS');
    const batch = await t.request({ method: 'POST', url: '/v1/tasks/batch/move', key: owner.key, body: { tasks: [{ id: task.id, status: 'staging' }] } });
    expect(batch.body.error.details.errors[0].error.code).toBe('INVALID_STATUS');
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${p.id}/tasks`, key: owner.key, body: { title: 'x', status: 'staging' } }), 422, 'INVALID_STATUS');
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('removes a column that holds tasks only with a target, moving them there with their events; the last column stays', async () => {
    const { owner, project: p } = await makeWorld(t);
    const a = await makeTask(t, owner, p.id, { status: 'review' });
    const b = await makeTask(t, owner, p.id, { status: 'review' });
    const before = await fingerprint(t.database.db);
    const refused = await removeColumn(owner, p.id, 'review');
    expectError(refused, 409, 'STATUS_NOT_EMPTY', 'move_to');
    expect(refused.body.error.details).toEqual({ tasks: 2 });
    expectError(await removeColumn(owner, p.id, 'review', '?move_to=review'), 422, 'INVALID_STATUS', 'move_to');
    expectError(await removeColumn(owner, p.id, 'review', '?move_to=nowhere'), 422, 'INVALID_STATUS', 'move_to');
    expect(await fingerprint(t.database.db)).toEqual(before);

    const removed = await removeColumn(owner, p.id, 'review', '?move_to=in_progress');
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body.data).toEqual({ id: 'review', deleted: true });
    expect((await project(owner, p.id)).statuses).toEqual(['backlog', 'todo', 'in_progress', 'done']);
    expect((await columns(owner, p.id)).map((c) => [c.key, c.position, c.task_count])).toEqual([['backlog', 0, 0], ['todo', 1, 0], ['in_progress', 2, 2], ['done', 3, 0]]);
    for (const task of [a, b]) {
      expect((await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key })).body.data.status).toBe('in_progress');
      const [event] = await t.database.db.selectFrom('events').selectAll().where('resource_id', '=', task.id).where('type', '=', 'task.moved').execute();
      expect(event!.changes).toEqual({ status: { from: 'review', to: 'in_progress' } });
    }
    expect((await removeColumn(owner, p.id, 'review')).status).toBe(200);
    for (const key of ['backlog', 'todo', 'in_progress']) expect((await removeColumn(owner, p.id, key, '?move_to=done')).status).toBe(200);
    expectError(await removeColumn(owner, p.id, 'done'), 409, 'LAST_STATUS');
    // A new task goes to the first column, whatever it is now.
    expect((await makeTask(t, owner, p.id)).status).toBe('done');
  });

  it('keeps a column within its WIP limit on every route into it, also under concurrent moves', async () => {
    const { owner, project: p } = await makeWorld(t);
    expect((await patchColumn(owner, p.id, 'in_progress', { wip_limit: 2 })).status).toBe(200);
    await makeTask(t, owner, p.id, { status: 'in_progress' });
    const second = await makeTask(t, owner, p.id);
    expect((await move(owner, second.id, { status: 'in_progress' })).status).toBe(200);
    const third = await makeTask(t, owner, p.id);
    const before = await fingerprint(t.database.db);
    const full = await move(owner, third.id, { status: 'in_progress' });
    expectError(full, 409, 'WIP_LIMIT_REACHED', 'status');
    expect(full.body.error.details).toEqual({ status: 'in_progress', wip_limit: 2 });
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${third.id}`, key: owner.key, body: { status: 'in_progress' } }), 409, 'WIP_LIMIT_REACHED');
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${p.id}/tasks`, key: owner.key, body: { title: 'x', status: 'in_progress' } }), 409, 'WIP_LIMIT_REACHED');
    const batch = await t.request({ method: 'POST', url: `/v1/projects/${p.id}/tasks/batch`, key: owner.key, body: { tasks: [{ title: 'y', status: 'in_progress' }] } });
    expect(batch.body.error.details.errors[0]).toMatchObject({ status: 409, error: { code: 'WIP_LIMIT_REACHED' } });
    expect(await fingerprint(t.database.db)).toEqual(before);
    // Moving within the full column, or out of it, is fine; a task of the batch that leaves makes room.
    expect((await move(owner, second.id, { status: 'in_progress', position: 0 })).status).toBe(200);
    const swap = await t.request({ method: 'POST', url: '/v1/tasks/batch/move', key: owner.key, body: { tasks: [{ id: second.id, status: 'done' }, { id: third.id, status: 'in_progress' }] } });
    expect(swap.status, swap.text).toBe(200);

    expect((await patchColumn(owner, p.id, 'review', { wip_limit: 3 })).status).toBe(200);
    const racers = await Promise.all(Array.from({ length: 10 }, () => makeTask(t, owner, p.id)));
    const results = await Promise.all(racers.map((task) => move(owner, task.id, { status: 'review' })));
    expect(results.filter((r) => r.status === 200).length).toBe(3);
    expect(results.filter((r) => r.status === 409).length).toBe(7);
    expect((await columns(owner, p.id)).find((c) => c.key === 'review')!.task_count).toBe(3);
  });

  it('orders tasks within a column by the position they were moved to', async () => {
    const { owner, project: p } = await makeWorld(t);
    const [a, b, c, d] = [await makeTask(t, owner, p.id, { title: 'a' }), await makeTask(t, owner, p.id, { title: 'b' }), await makeTask(t, owner, p.id, { title: 'c' }), await makeTask(t, owner, p.id, { title: 'd' })];
    const order = async () => (await t.request({ url: `/v1/projects/${p.id}/tasks?status=todo&sort=position&order=asc`, key: owner.key })).body.data.map((x: { title: string }) => x.title);
    for (const task of [a, b, c]) expect((await move(owner, task.id, { status: 'todo' })).status).toBe(200);
    expect(await order()).toEqual(['a', 'b', 'c']);
    await move(owner, c.id, { status: 'todo', position: 0 });
    expect(await order()).toEqual(['c', 'a', 'b']);
    await move(owner, d.id, { status: 'todo', position: 1 });
    expect(await order()).toEqual(['c', 'd', 'a', 'b']);
    await move(owner, c.id, { status: 'todo', position: 99 });
    expect(await order()).toEqual(['d', 'a', 'b', 'c']);
    // Halving the same gap many times still keeps the order (the column's ranks are spread out when needed).
    for (let i = 0; i < 60; i++) await move(owner, i % 2 ? a.id : b.id, { status: 'todo', position: 1 });
    expect(await order()).toEqual(['d', 'a', 'b', 'c']);
    const batch = await t.request({ method: 'POST', url: '/v1/tasks/batch/move', key: owner.key, body: { tasks: [{ id: c.id, status: 'todo', position: 0 }, { id: b.id, status: 'todo', position: 0 }] } });
    expect(batch.status, batch.text).toBe(200);
    expect(await order()).toEqual(['b', 'c', 'd', 'a']);
  });

  it('counts a task as finished in any done column: a sprint completes what is in them', async () => {
    const { owner, project: p } = await makeWorld(t);
    expect((await addColumn(owner, p.id, { key: 'released', name: 'Released', category: 'done' })).status).toBe(201);
    expect((await patchColumn(owner, p.id, 'review', { category: 'done' })).status).toBe(200);
    const sprint = (await t.request({ method: 'POST', url: `/v1/projects/${p.id}/sprints`, key: owner.key, body: { name: 'S' } })).body.data;
    await makeTask(t, owner, p.id, { sprint_id: sprint.id, status: 'released', estimated_minutes: 10 });
    await makeTask(t, owner, p.id, { sprint_id: sprint.id, status: 'review', estimated_minutes: 20 });
    await makeTask(t, owner, p.id, { sprint_id: sprint.id, status: 'done', estimated_minutes: 40 });
    await makeTask(t, owner, p.id, { sprint_id: sprint.id, estimated_minutes: 80 });
    expect((await t.request({ method: 'POST', url: `/v1/sprints/${sprint.id}/start`, key: owner.key })).status).toBe(200);
    const report = (await t.request({ url: `/v1/sprints/${sprint.id}/report`, key: owner.key })).body.data;
    expect(report.completed).toEqual({ tasks: 3, estimated_minutes: 70 });
    const ended = await t.request({ method: 'POST', url: `/v1/sprints/${sprint.id}/end`, key: owner.key });
    expect(ended.body.data.completed).toEqual({ tasks: 3, estimated_minutes: 70 });
  });

  it('lets admins change the workflow, viewers read it; a stranger gets 404', async () => {
    const { owner, workspace, project: p } = await makeWorld(t);
    const member = await makeUser(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, member, 'member');
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const stranger = await makeUser(t);
    expect((await columns(viewer, p.id)).length).toBe(5);
    expectError(await addColumn(member, p.id, { key: 'x', name: 'X', category: 'todo' }), 403);
    expectError(await patchColumn(member, p.id, 'todo', { name: 'Y' }), 403);
    expectError(await removeColumn(member, p.id, 'todo'), 403);
    expectError(await t.request({ url: `/v1/projects/${p.id}/statuses`, key: stranger.key }), 404, 'NOT_FOUND');
    expectError(await addColumn(stranger, p.id, { key: 'x', name: 'X', category: 'todo' }), 404, 'NOT_FOUND');
    expect((await removeColumn(stranger, p.id, 'todo')).status).toBe(200);
    expect((await columns(owner, p.id)).length).toBe(5);
  });
});

// Batch operations on tasks: up to 100 creates, merge patches or moves in one transaction; all or
// nothing by default, a result per item with atomic=false; one event per changed task.
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

function createBatch(by: Actor, projectId: string, body: unknown, query = '', headers?: Record<string, string>) {
  return t.request({ method: 'POST', url: `/v1/projects/${projectId}/tasks/batch${query}`, key: by.key, body, headers });
}

function updateBatch(by: Actor, body: unknown, query = '') {
  return t.request({ method: 'PATCH', url: `/v1/tasks/batch${query}`, key: by.key, body });
}

function moveBatch(by: Actor, body: unknown) {
  return t.request({ method: 'POST', url: '/v1/tasks/batch/move', key: by.key, body });
}

function eventsOf(resourceIds: string[]) {
  return t.database.db.selectFrom('events').selectAll().where('resource_id', 'in', resourceIds).orderBy('seq').execute();
}

async function getTask(by: Actor, id: string) {
  const res = await t.request({ url: `/v1/tasks/${id}`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

async function makeSprint(by: Actor, projectId: string) {
  const res = await t.request({ method: 'POST', url: `/v1/projects/${projectId}/sprints`, key: by.key, body: { name: unique('Sprint ') } });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

describe('batch create', () => {
  it('creates every task in order with consecutive numbers, each with its task.created event', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const res = await createBatch(owner, project.id, {
      tasks: [
        { title: 'One' },
        { title: 'Two', status: 'in_progress', priority: 'high', labels: ['api', 'api'], assignee_id: owner.userId, estimated_minutes: 30, sprint_id: sprint.id },
        { title: 'Three', due_date: '2026-12-31' },
      ],
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.meta).toEqual({ atomic: true, total: 3, succeeded: 3, failed: 0, changed: 3 });
    const tasks = res.body.data.map((r: { data: any }) => r.data);
    expect(res.body.data.map((r: { index: number; status: number; id: string }) => [r.index, r.status, r.id])).toEqual(tasks.map((x: any, i: number) => [i, 201, x.id]));
    expect(tasks.map((x: any) => [x.title, x.number, x.status])).toEqual([
      ['One', 1, 'backlog'],
      ['Two', 2, 'in_progress'],
      ['Three', 3, 'backlog'],
    ]);
    expect(tasks[1]).toMatchObject({ priority: 'high', labels: ['api'], assignee_id: owner.userId, estimated_minutes: 30, sprint_id: sprint.id });
    expect(await getTask(owner, tasks[2].id)).toEqual(tasks[2]);
    const events = await eventsOf(tasks.map((x: any) => x.id));
    expect(events.map((e) => [e.type, e.resource_id])).toEqual(tasks.map((x: any) => ['task.created', x.id]));
    expect(events[1]!.data).toEqual(tasks[1]);
    // The next task, made alone, takes the next number.
    expect((await makeTask(t, owner, project.id)).number).toBe(4);
  });

  it('refuses the whole batch when one item breaks a rule, naming every refused item, and writes nothing (not even a number)', async () => {
    const { owner, project } = await makeWorld(t);
    const stranger = await makeUser(t);
    const before = await fingerprint(t.database.db);
    const res = await createBatch(owner, project.id, {
      tasks: [{ title: 'Fine' }, { title: 'Bad status', status: 'nope' }, { title: 'Bad assignee', assignee_id: stranger.userId }, { title: 'Bad sprint', sprint_id: 'spr_unknown' }],
    });
    expectError(res, 422, 'BATCH_REJECTED', 'tasks');
    expect(res.body.error.details.errors).toEqual([
      { index: 1, id: null, status: 422, error: expect.objectContaining({ code: 'INVALID_STATUS', param: 'tasks[1].status' }) },
      { index: 2, id: null, status: 422, error: expect.objectContaining({ code: 'INVALID_ASSIGNEE', param: 'tasks[2].assignee_id' }) },
      { index: 3, id: null, status: 422, error: expect.objectContaining({ code: 'INVALID_SPRINT', param: 'tasks[3].sprint_id' }) },
    ]);
    expect(await fingerprint(t.database.db)).toEqual(before);
    expect((await makeTask(t, owner, project.id)).number).toBe(1);
  });

  it('with atomic=false creates what it can, answers 207 with each item\'s own status, and numbers the created ones without gaps', async () => {
    const { owner, project } = await makeWorld(t);
    const res = await createBatch(owner, project.id, { tasks: [{ title: 'A' }, { title: 'B', status: 'nope' }, { title: 'C' }] }, '?atomic=false');
    expect(res.status, res.text).toBe(207);
    expect(res.body.meta).toEqual({ atomic: false, total: 3, succeeded: 2, failed: 1, changed: 2 });
    expect(res.body.data.map((r: { status: number }) => r.status)).toEqual([201, 422, 201]);
    expect(res.body.data[1].error.param).toBe('tasks[1].status');
    expect([res.body.data[0].data.number, res.body.data[2].data.number]).toEqual([1, 2]);
    const listed = await t.request({ url: `/v1/projects/${project.id}/tasks`, key: owner.key });
    expect(listed.body.meta.total).toBe(2);
    // The body's atomic and the query's must not disagree.
    expectError(await createBatch(owner, project.id, { tasks: [{ title: 'X' }], atomic: true }, '?atomic=false'), 400, undefined, 'atomic');
    const same = await createBatch(owner, project.id, { tasks: [{ title: 'X' }], atomic: false }, '?atomic=false');
    expect(same.status).toBe(201);
  });

  it('takes 100 items and refuses 101 or none with a 400 naming `tasks`, writing nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const before = await fingerprint(t.database.db);
    const tooMany = await createBatch(owner, project.id, { tasks: Array.from({ length: 101 }, (_, i) => ({ title: `T${i}` })) });
    expectError(tooMany, 400);
    expect(tooMany.body.error.param).toMatch(/^tasks/);
    expect(tooMany.body.error.message).toMatch(/100/);
    expectError(await createBatch(owner, project.id, { tasks: [] }), 400);
    expectError(await createBatch(owner, project.id, {}), 400);
    expectError(await createBatch(owner, project.id, { tasks: [{ title: 'x', id: 'task_mine' }] }), 400);
    expect(await fingerprint(t.database.db)).toEqual(before);
    const hundred = await createBatch(owner, project.id, { tasks: Array.from({ length: 100 }, (_, i) => ({ title: `T${i}` })) });
    expect(hundred.status, hundred.text).toBe(201);
    expect(hundred.body.data.at(-1).data.number).toBe(100);
  });

  it('is a 404 for a project outside the caller\'s workspaces and a 403 for a viewer, writing nothing', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const stranger = await makeUser(t);
    const before = await fingerprint(t.database.db);
    expectError(await createBatch(stranger, project.id, { tasks: [{ title: 'x' }] }), 404, 'NOT_FOUND');
    expectError(await createBatch(viewer, project.id, { tasks: [{ title: 'x' }] }), 403);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('replays the same response for the same Idempotency-Key without creating the tasks again', async () => {
    const { owner, project } = await makeWorld(t);
    const key = unique('batch-');
    const body = { tasks: [{ title: 'Once' }, { title: 'Only once' }] };
    const first = await createBatch(owner, project.id, body, '', { 'idempotency-key': key });
    const again = await createBatch(owner, project.id, body, '', { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const listed = await t.request({ url: `/v1/projects/${project.id}/tasks`, key: owner.key });
    expect(listed.body.meta.total).toBe(2);
  });
});

describe('batch update', () => {
  it('merge-patches each task: the fields sent are set, null clears, the others are untouched; one event per changed task', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const a = await makeTask(t, owner, project.id, { title: 'A', description: 'keep me', priority: 'low', estimated_minutes: 10 });
    const b = await makeTask(t, owner, project.id, { title: 'B', assignee_id: owner.userId, due_date: '2026-12-24' });
    const c = await makeTask(t, owner, project.id, { title: 'C' });
    const res = await updateBatch(owner, {
      tasks: [
        { id: a.id, title: 'A2', estimated_minutes: null, sprint_id: sprint.id },
        { id: b.id, assignee_id: null, labels: ['x', 'y'] },
        { id: c.id, title: 'C' },
      ],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.meta).toEqual({ atomic: true, total: 3, succeeded: 3, failed: 0, changed: 2 });
    const [a2, b2, c2] = [await getTask(owner, a.id), await getTask(owner, b.id), await getTask(owner, c.id)];
    expect(res.body.data.map((r: { data: unknown }) => r.data)).toEqual([a2, b2, c2]);
    expect(a2).toMatchObject({ title: 'A2', description: 'keep me', priority: 'low', estimated_minutes: null, sprint_id: sprint.id });
    expect(b2).toMatchObject({ title: 'B', assignee_id: null, labels: ['x', 'y'], due_date: '2026-12-24' });
    // A patch that changes nothing writes nothing.
    expect(c2).toEqual(c);
    const events = (await eventsOf([a.id, b.id, c.id])).filter((e) => e.type === 'task.updated');
    expect(events.map((e) => e.resource_id)).toEqual([a.id, b.id]);
    expect(events[0]!.changes).toEqual({ title: { from: 'A', to: 'A2' }, estimated_minutes: { from: 10, to: null }, sprint_id: { from: null, to: sprint.id } });
    expect(events[1]!.changes).toEqual({ assignee_id: { from: owner.userId, to: null }, labels: { from: [], to: ['x', 'y'] } });
    // The version moved on by one for each written task: If-Match with the new ETag works.
    const got = await t.request({ url: `/v1/tasks/${a.id}`, key: owner.key });
    expect(got.headers.etag).toBe('"v2"');
  });

  it('refuses all of an atomic batch for one stale version, duplicate, hidden task or foreign reference, and changes nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const other = await makeWorld(t);
    const otherProject = await makeProject(t, owner, project.workspace_id);
    const foreignSprint = await makeSprint(owner, otherProject.id);
    const theirTask = await makeTask(t, other.owner, other.project.id);
    const a = await makeTask(t, owner, project.id);
    const b = await makeTask(t, owner, project.id);
    const before = await fingerprint(t.database.db);
    const res = await updateBatch(owner, {
      tasks: [
        { id: a.id, title: 'fine', version: 1 },
        { id: b.id, title: 'stale', version: 7 },
        { id: a.id, title: 'again' },
        { id: theirTask.id, title: 'not yours' },
        { id: 'task_doesnotexist', title: 'nobody' },
        { id: b.id === a.id ? 'x' : 'not-an-id', title: 'junk' },
      ],
    });
    expectError(res, 422, 'BATCH_REJECTED');
    const errs = res.body.error.details.errors.map((e: any) => [e.index, e.id, e.status, e.error.code]);
    expect(errs).toEqual([
      [1, b.id, 412, 'PRECONDITION_FAILED'],
      [2, a.id, 422, 'DUPLICATE_ITEM'],
      [3, theirTask.id, 404, 'NOT_FOUND'],
      [4, 'task_doesnotexist', 404, 'NOT_FOUND'],
      [5, null, 404, 'NOT_FOUND'],
    ]);
    // Another workspace's task is refused exactly as a task that does not exist.
    expect(res.body.error.details.errors[2].error).toEqual(res.body.error.details.errors[3].error);
    const sprintRes = await updateBatch(owner, { tasks: [{ id: a.id, sprint_id: foreignSprint.id }] });
    expectError(sprintRes, 422, 'BATCH_REJECTED');
    expect(sprintRes.body.error.details.errors[0].error).toMatchObject({ code: 'INVALID_SPRINT', param: 'tasks[0].sprint_id' });
    const theirMember = await updateBatch(owner, { tasks: [{ id: a.id, assignee_id: other.owner.userId }] });
    expect(theirMember.body.error.details.errors[0].error.code).toBe('INVALID_ASSIGNEE');
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('with atomic=false applies the items that pass and reports each refusal', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const member = await makeUser(t);
    await addMember(t, owner, workspace.id, member, 'member');
    const a = await makeTask(t, owner, project.id);
    const b = await makeTask(t, owner, project.id);
    const res = await updateBatch(owner, { tasks: [{ id: a.id, priority: 'urgent', assignee_id: member.userId }, { id: b.id, status: 'nope' }], atomic: false });
    expect(res.status, res.text).toBe(207);
    expect(res.body.data.map((r: any) => r.status)).toEqual([200, 422]);
    expect(await getTask(owner, a.id)).toMatchObject({ priority: 'urgent', assignee_id: member.userId });
    expect(await getTask(owner, b.id)).toEqual(b);
  });

  it('gives a viewer a 403 for each item and changes nothing', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const a = await makeTask(t, owner, project.id);
    const res = await updateBatch(viewer, { tasks: [{ id: a.id, title: 'mine now' }] }, '?atomic=false');
    expect(res.status).toBe(207);
    expect(res.body.data[0].status).toBe(403);
    expect(await getTask(owner, a.id)).toEqual(a);
  });

  it('runs two batches over the same tasks in opposite orders at once without a deadlock or a lost field', async () => {
    const { owner, project } = await makeWorld(t);
    const tasks = await Promise.all(Array.from({ length: 10 }, () => makeTask(t, owner, project.id)));
    const ids = tasks.map((x) => x.id);
    const [one, two] = await Promise.all([
      updateBatch(owner, { tasks: ids.map((id) => ({ id, title: `title ${id}` })) }),
      updateBatch(owner, { tasks: [...ids].reverse().map((id) => ({ id, priority: 'high' })) }),
    ]);
    expect([one.status, two.status], one.text + two.text).toEqual([200, 200]);
    for (const id of ids) expect(await getTask(owner, id)).toMatchObject({ title: `title ${id}`, priority: 'high' });
    const versions = await t.database.db.selectFrom('tasks').select('version').where('id', 'in', ids).execute();
    expect(versions.every((v) => v.version === 3)).toBe(true);
  });
});

describe('batch move', () => {
  it('moves each task to a status of its project, with task.moved events, and refuses an unknown status', async () => {
    const { owner, project } = await makeWorld(t);
    const a = await makeTask(t, owner, project.id);
    const b = await makeTask(t, owner, project.id);
    const res = await moveBatch(owner, { tasks: [{ id: a.id, status: 'done' }, { id: b.id, status: 'review', position: 0 }] });
    expect(res.status, res.text).toBe(200);
    expect((await getTask(owner, a.id)).status).toBe('done');
    expect((await getTask(owner, b.id)).status).toBe('review');
    const moved = (await eventsOf([a.id, b.id])).filter((e) => e.type === 'task.moved');
    expect(moved.map((e) => [e.resource_id, e.changes])).toEqual([
      [a.id, { status: { from: 'backlog', to: 'done' } }],
      [b.id, { status: { from: 'backlog', to: 'review' } }],
    ]);
    const before = await fingerprint(t.database.db);
    const bad = await moveBatch(owner, { tasks: [{ id: a.id, status: 'todo' }, { id: b.id, status: 'shipped' }] });
    expectError(bad, 422, 'BATCH_REJECTED');
    expect(bad.body.error.details.errors).toEqual([{ index: 1, id: b.id, status: 422, error: expect.objectContaining({ code: 'INVALID_STATUS', param: 'tasks[1].status' }) }]);
    expectError(await moveBatch(owner, { tasks: [{ id: a.id }] }), 400);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });
});

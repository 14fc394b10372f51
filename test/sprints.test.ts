// Sprints: planned, then active (one per project), then completed; what a sprint committed to
// and finished; where its unfinished tasks go; and tasks that reference sprints.
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

async function makeSprint(by: Actor, projectId: string, body: Record<string, unknown> = {}) {
  const res = await t.request({ method: 'POST', url: `/v1/projects/${projectId}/sprints`, key: by.key, body: { name: unique('Sprint '), ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

function act(by: Actor, sprintId: string, action: 'start' | 'end', body?: Record<string, unknown>) {
  return t.request({ method: 'POST', url: `/v1/sprints/${sprintId}/${action}`, key: by.key, body });
}

function eventsOf(type: string, resourceId: string) {
  return t.database.db.selectFrom('events').selectAll().where('type', '=', type).where('resource_id', '=', resourceId).execute();
}

describe('sprints', () => {
  it('creates a planned sprint with the given fields, gets, lists and updates it, each change with its event', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id, { name: 'Sprint 1', goal: 'Ship login', start_date: '2026-12-07', end_date: '2026-12-18' });
    expect(sprint).toMatchObject({
      project_id: project.id,
      workspace_id: project.workspace_id,
      name: 'Sprint 1',
      goal: 'Ship login',
      start_date: '2026-12-07',
      end_date: '2026-12-18',
      status: 'planned',
      started_at: null,
      ended_at: null,
      committed: null,
      completed: null,
    });
    expect(sprint.id).toMatch(/^spr_/);
    expect((await eventsOf('sprint.created', sprint.id)).length).toBe(1);

    const got = await t.request({ url: `/v1/sprints/${sprint.id}`, key: owner.key });
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(sprint);
    expect(got.headers.etag).toBeTruthy();

    const updated = await t.request({ method: 'PATCH', url: `/v1/sprints/${sprint.id}`, key: owner.key, body: { goal: 'Ship login and signup' }, headers: { 'if-match': String(got.headers.etag) } });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.data).toMatchObject({ name: 'Sprint 1', goal: 'Ship login and signup', end_date: '2026-12-18' });
    const [changed] = await eventsOf('sprint.updated', sprint.id);
    expect(changed!.changes).toEqual({ goal: { from: 'Ship login', to: 'Ship login and signup' } });
    const stale = await t.request({ method: 'PATCH', url: `/v1/sprints/${sprint.id}`, key: owner.key, body: { goal: 'x' }, headers: { 'if-match': String(got.headers.etag) } });
    expectError(stale, 412, 'PRECONDITION_FAILED');

    const second = await makeSprint(owner, project.id, { name: 'Sprint 2' });
    const listed = await t.request({ url: `/v1/projects/${project.id}/sprints?sort=name&order=asc`, key: owner.key });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((s: { id: string }) => s.id)).toEqual([sprint.id, second.id]);
    expect(listed.body.meta.total).toBe(2);
    const planned = await t.request({ url: `/v1/projects/${project.id}/sprints?status=active`, key: owner.key });
    expect(planned.body.data).toEqual([]);
  });

  it('refuses a sprint that ends before it starts, a duplicate name in the project, and an unknown status filter', async () => {
    const { owner, project } = await makeWorld(t);
    const before = await fingerprint(t.database.db);
    const backwards = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: owner.key, body: { name: 'Backwards', start_date: '2026-12-18', end_date: '2026-12-07' } });
    expectError(backwards, 422, 'INVALID_DATES', 'end_date');
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: owner.key, body: { name: '' } }), 400);
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: owner.key, body: { name: 'x', start_date: '2026-13-01' } }), 400);
    expect(await fingerprint(t.database.db)).toEqual(before);

    const sprint = await makeSprint(owner, project.id, { name: 'Alpha', start_date: '2026-12-07' });
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: owner.key, body: { name: 'ALPHA' } }), 409, 'NAME_TAKEN', 'name');
    // An update is checked against the dates it keeps.
    expectError(await t.request({ method: 'PATCH', url: `/v1/sprints/${sprint.id}`, key: owner.key, body: { end_date: '2026-12-01' } }), 422, 'INVALID_DATES');
    expectError(await t.request({ url: `/v1/projects/${project.id}/sprints?status=open`, key: owner.key }), 400, undefined, 'status');
    // The same name in another project is fine.
    const other = await makeProject(t, owner, project.workspace_id);
    await makeSprint(owner, other.id, { name: 'Alpha' });
  });

  it('starts a sprint with its tasks as the commitment, and allows one active sprint per project (409 for a second)', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    await makeTask(t, owner, project.id, { sprint_id: sprint.id, estimated_minutes: 60 });
    await makeTask(t, owner, project.id, { sprint_id: sprint.id, estimated_minutes: 90 });
    await makeTask(t, owner, project.id, { sprint_id: sprint.id });
    const started = await act(owner, sprint.id, 'start');
    expect(started.status, started.text).toBe(200);
    expect(started.body.data).toMatchObject({ status: 'active', committed: { tasks: 3, estimated_minutes: 150 }, completed: null });
    expect(Date.parse(started.body.data.started_at)).toBeGreaterThan(0);
    expect((await eventsOf('sprint.started', sprint.id)).length).toBe(1);

    expectError(await act(owner, sprint.id, 'start'), 409, 'SPRINT_NOT_PLANNED');
    const next = await makeSprint(owner, project.id);
    const second = await act(owner, next.id, 'start');
    expectError(second, 409, 'SPRINT_ALREADY_ACTIVE');
    expect(second.body.error.details.active_sprint.id).toBe(sprint.id);
    // Another project runs its own sprint meanwhile.
    const other = await makeProject(t, owner, project.workspace_id);
    expect((await act(owner, (await makeSprint(owner, other.id)).id, 'start')).status).toBe(200);
  });

  it('of sprints of one project started at once, exactly one becomes active', async () => {
    const { owner, project } = await makeWorld(t);
    const sprints = await Promise.all(Array.from({ length: 8 }, () => makeSprint(owner, project.id)));
    const results = await Promise.all(sprints.map((s) => act(owner, s.id, 'start')));
    expect(results.filter((r) => r.status === 200).length).toBe(1);
    for (const r of results.filter((x) => x.status !== 200)) expectError(r, 409, 'SPRINT_ALREADY_ACTIVE');
    const active = await t.request({ url: `/v1/projects/${project.id}/sprints?status=active`, key: owner.key });
    expect(active.body.data.length).toBe(1);
    expect((await t.database.db.selectFrom('events').select('id').where('type', '=', 'sprint.started').where('project_id', '=', project.id).execute()).length).toBe(1);
  });

  it('ends the active sprint: records what was finished and moves the unfinished tasks to the backlog, each with a task.updated event', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const done = await makeTask(t, owner, project.id, { sprint_id: sprint.id, estimated_minutes: 30 });
    const open = await makeTask(t, owner, project.id, { sprint_id: sprint.id, estimated_minutes: 45 });
    expectError(await act(owner, sprint.id, 'end'), 409, 'SPRINT_NOT_ACTIVE');
    expect((await act(owner, sprint.id, 'start')).status).toBe(200);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${done.id}/move`, key: owner.key, body: { status: 'done' } })).status).toBe(200);
    // Added after the start: not committed, but counted as finished if it is.
    const late = await makeTask(t, owner, project.id, { sprint_id: sprint.id, status: 'done', estimated_minutes: 15 });

    const ended = await act(owner, sprint.id, 'end');
    expect(ended.status, ended.text).toBe(200);
    expect(ended.body.data).toMatchObject({ status: 'completed', committed: { tasks: 2, estimated_minutes: 75 }, completed: { tasks: 2, estimated_minutes: 45 } });
    expect(Date.parse(ended.body.data.ended_at)).toBeGreaterThanOrEqual(Date.parse(ended.body.data.started_at));
    const get = (id: string) => t.request({ url: `/v1/tasks/${id}`, key: owner.key });
    expect((await get(done.id)).body.data.sprint_id).toBe(sprint.id);
    expect((await get(late.id)).body.data.sprint_id).toBe(sprint.id);
    expect((await get(open.id)).body.data.sprint_id).toBeNull();
    const [moved] = await eventsOf('task.updated', open.id);
    expect(moved!.changes).toMatchObject({ sprint_id: { from: sprint.id, to: null } });
    expect((await eventsOf('sprint.ended', sprint.id)).length).toBe(1);
    expectError(await act(owner, sprint.id, 'start'), 409, 'SPRINT_NOT_PLANNED');
    // The project can start its next sprint now.
    expect((await act(owner, (await makeSprint(owner, project.id)).id, 'start')).status).toBe(200);
  });

  it('a sprint ending while tasks are planned or created into it leaves none of them unfinished in it', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    expect((await act(owner, sprint.id, 'start')).status).toBe(200);
    const tasks = await Promise.all(Array.from({ length: 10 }, () => makeTask(t, owner, project.id)));
    const [ended, ...planned] = await Promise.all([
      act(owner, sprint.id, 'end'),
      ...tasks.map((task) => t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { sprint_id: sprint.id } })),
      ...tasks.map(() => t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'late', sprint_id: sprint.id } })),
    ]);
    expect(ended!.status, ended!.text).toBe(200);
    for (const r of planned) {
      if (r.status >= 300) expectError(r, 422, 'SPRINT_COMPLETED', 'sprint_id');
    }
    const left = await t.request({ url: `/v1/projects/${project.id}/tasks?sprint=${sprint.id}`, key: owner.key });
    expect(left.body.data).toEqual([]);
  });

  it("ends a sprint moving its unfinished tasks to a planned sprint named in move_to, and refuses any other target", async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const open = await makeTask(t, owner, project.id, { sprint_id: sprint.id });
    expect((await act(owner, sprint.id, 'start')).status).toBe(200);
    const other = await makeProject(t, owner, project.workspace_id);
    const foreign = await makeSprint(owner, other.id);
    const before = await fingerprint(t.database.db);
    expectError(await act(owner, sprint.id, 'end', { move_to: foreign.id }), 422, 'INVALID_SPRINT', 'move_to');
    expectError(await act(owner, sprint.id, 'end', { move_to: sprint.id }), 422, 'INVALID_SPRINT', 'move_to');
    expectError(await act(owner, sprint.id, 'end', { move_to: 'spr_doesnotexist' }), 422, 'INVALID_SPRINT', 'move_to');
    expectError(await act(owner, sprint.id, 'end', { move_to: 'somewhere' }), 422, 'INVALID_SPRINT', 'move_to');
    expect(await fingerprint(t.database.db)).toEqual(before);

    const next = await makeSprint(owner, project.id);
    const ended = await act(owner, sprint.id, 'end', { move_to: next.id });
    expect(ended.status, ended.text).toBe(200);
    expect(ended.body.data.completed).toEqual({ tasks: 0, estimated_minutes: 0 });
    expect((await t.request({ url: `/v1/tasks/${open.id}`, key: owner.key })).body.data.sprint_id).toBe(next.id);
    const inNext = await t.request({ url: `/v1/projects/${project.id}/tasks?sprint=${next.id}`, key: owner.key });
    expect(inNext.body.data.map((x: { id: string }) => x.id)).toEqual([open.id]);
  });

  it("plans tasks only in their own project's sprints that have not ended, and filters tasks by sprint", async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const other = await makeProject(t, owner, project.workspace_id);
    const foreign = await makeSprint(owner, other.id);
    const stranger = await makeWorld(t);
    const theirs = await makeSprint(stranger.owner, stranger.project.id);
    const before = await fingerprint(t.database.db);
    for (const sprintId of [foreign.id, theirs.id, 'spr_doesnotexist', 'nonsense']) {
      const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', sprint_id: sprintId } });
      expectError(res, 422, 'INVALID_SPRINT', 'sprint_id');
    }
    expect(await fingerprint(t.database.db)).toEqual(before);

    const task = await makeTask(t, owner, project.id, { sprint_id: sprint.id });
    expect(task.sprint_id).toBe(sprint.id);
    const backlog = await makeTask(t, owner, project.id);
    expect(backlog.sprint_id).toBeNull();
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${backlog.id}`, key: owner.key, body: { sprint_id: foreign.id } }), 422, 'INVALID_SPRINT', 'sprint_id');
    const planned = await t.request({ method: 'PATCH', url: `/v1/tasks/${backlog.id}`, key: owner.key, body: { sprint_id: sprint.id } });
    expect(planned.status, planned.text).toBe(200);
    expect(planned.body.data.sprint_id).toBe(sprint.id);
    const unplanned = await t.request({ method: 'PATCH', url: `/v1/tasks/${backlog.id}`, key: owner.key, body: { sprint_id: null } });
    expect(unplanned.body.data.sprint_id).toBeNull();

    const inSprint = await t.request({ url: `/v1/projects/${project.id}/tasks?sprint=${sprint.id}`, key: owner.key });
    expect(inSprint.body.data.map((x: { id: string }) => x.id)).toEqual([task.id]);
    const none = await t.request({ url: `/v1/projects/${project.id}/tasks?sprint=none`, key: owner.key });
    expect(none.body.data.map((x: { id: string }) => x.id)).toEqual([backlog.id]);

    expect((await act(owner, sprint.id, 'start')).status).toBe(200);
    expect((await act(owner, sprint.id, 'end')).status).toBe(200);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${backlog.id}`, key: owner.key, body: { sprint_id: sprint.id } }), 422, 'SPRINT_COMPLETED', 'sprint_id');
  });

  it('deletes a sprint that is not active, returning its tasks to the backlog; deleting it again answers the same 200', async () => {
    const { owner, project } = await makeWorld(t);
    const sprint = await makeSprint(owner, project.id);
    const task = await makeTask(t, owner, project.id, { sprint_id: sprint.id });
    expect((await act(owner, sprint.id, 'start')).status).toBe(200);
    expectError(await t.request({ method: 'DELETE', url: `/v1/sprints/${sprint.id}`, key: owner.key }), 409, 'SPRINT_ACTIVE');
    expect((await act(owner, sprint.id, 'end', { move_to: 'backlog' })).status).toBe(200);
    const planned = await makeSprint(owner, project.id);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { sprint_id: planned.id } })).status).toBe(200);
    const removed = await t.request({ method: 'DELETE', url: `/v1/sprints/${planned.id}`, key: owner.key });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body.data).toEqual({ id: planned.id, deleted: true });
    const again = await t.request({ method: 'DELETE', url: `/v1/sprints/${planned.id}`, key: owner.key });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(removed.body);
    expect((await t.request({ url: `/v1/sprints/${planned.id}`, key: owner.key })).status).toBe(404);
    const after = (await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key })).body.data;
    expect(after.sprint_id).toBeNull();
    const [moved] = (await eventsOf('task.updated', task.id)).filter((e) => (e.changes as Record<string, { to: unknown }> | null)?.sprint_id?.to === null);
    expect(moved).toBeTruthy();
    expect((await eventsOf('sprint.deleted', planned.id)).length).toBe(1);
  });

  it('velocity lists the last completed sprints oldest first with what each committed and completed, and their average', async () => {
    const { owner, project } = await makeWorld(t);
    const empty = await t.request({ url: `/v1/projects/${project.id}/velocity`, key: owner.key });
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body.data).toEqual({ sprints: [], average_completed: null });
    const finished: string[] = [];
    for (const [done, open] of [[2, 1], [1, 2], [3, 0]] as const) {
      const sprint = await makeSprint(owner, project.id);
      for (let i = 0; i < done; i++) await makeTask(t, owner, project.id, { sprint_id: sprint.id, status: 'done', estimated_minutes: 30 });
      for (let i = 0; i < open; i++) await makeTask(t, owner, project.id, { sprint_id: sprint.id, estimated_minutes: 60 });
      expect((await act(owner, sprint.id, 'start')).status).toBe(200);
      expect((await act(owner, sprint.id, 'end')).status).toBe(200);
      finished.push(sprint.id);
    }
    // Neither a planned nor an active sprint counts.
    await makeSprint(owner, project.id);
    expect((await act(owner, (await makeSprint(owner, project.id)).id, 'start')).status).toBe(200);

    const velocity = await t.request({ url: `/v1/projects/${project.id}/velocity`, key: owner.key });
    expect(velocity.body.data.sprints.map((s: { id: string }) => s.id)).toEqual(finished);
    expect(velocity.body.data.sprints.map((s: { completed: unknown }) => s.completed)).toEqual([
      { tasks: 2, estimated_minutes: 60 },
      { tasks: 1, estimated_minutes: 30 },
      { tasks: 3, estimated_minutes: 90 },
    ]);
    expect(velocity.body.data.sprints[1].committed).toEqual({ tasks: 3, estimated_minutes: 150 });
    expect(velocity.body.data.average_completed).toEqual({ tasks: 2, estimated_minutes: 60 });
    const lastTwo = await t.request({ url: `/v1/projects/${project.id}/velocity?sprints=2`, key: owner.key });
    expect(lastTwo.body.data.sprints.map((s: { id: string }) => s.id)).toEqual(finished.slice(1));
    expect(lastTwo.body.data.average_completed).toEqual({ tasks: 2, estimated_minutes: 60 });
    for (const n of ['0', '51', 'x']) expectError(await t.request({ url: `/v1/projects/${project.id}/velocity?sprints=${n}`, key: owner.key }), 400);
  });

  it('lets viewers read sprints and members run them; a viewer changes nothing (403)', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const member = await makeUser(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, member, 'member');
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const sprint = await makeSprint(member, project.id);
    expect((await t.request({ url: `/v1/sprints/${sprint.id}`, key: viewer.key })).status).toBe(200);
    expect((await t.request({ url: `/v1/projects/${project.id}/sprints`, key: viewer.key })).body.data.length).toBe(1);
    expect((await t.request({ url: `/v1/projects/${project.id}/velocity`, key: viewer.key })).status).toBe(200);
    const before = await fingerprint(t.database.db);
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: viewer.key, body: { name: 'nope' } }), 403);
    expectError(await act(viewer, sprint.id, 'start'), 403);
    expectError(await t.request({ method: 'PATCH', url: `/v1/sprints/${sprint.id}`, key: viewer.key, body: { name: 'nope' } }), 403);
    expectError(await t.request({ method: 'DELETE', url: `/v1/sprints/${sprint.id}`, key: viewer.key }), 403);
    expect(await fingerprint(t.database.db)).toEqual(before);
    expect((await act(member, sprint.id, 'start')).status).toBe(200);
    expect((await act(member, sprint.id, 'end')).status).toBe(200);
  });
});

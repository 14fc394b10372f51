import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeProject, makeTask, makeUser, makeWorkspace, makeWorld, unique } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many users are minted with the bootstrap key; rate limits are covered elsewhere.
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function getTask(key: string, id: string): Promise<any> {
  const res = await t.request({ url: `/v1/tasks/${id}`, key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

function eventsFor(resourceId: string) {
  return t.database.db.selectFrom('events').selectAll().where('resource_id', '=', resourceId).orderBy('seq', 'asc').execute();
}

async function taskCount(projectId: string): Promise<number> {
  return (await t.database.db.selectFrom('tasks').select('id').where('project_id', '=', projectId).execute()).length;
}

/** An owner with a workspace and a project, plus a member and a viewer. */
async function team() {
  const { owner, workspace, project } = await makeWorld(t);
  const [member, viewer] = await Promise.all([makeUser(t), makeUser(t)]);
  await addMember(t, owner, workspace.id, member, 'member');
  await addMember(t, owner, workspace.id, viewer, 'viewer');
  return { owner, member, viewer, workspace, project };
}

describe('POST /v1/projects/:id/tasks', () => {
  /** For requests that must be refused and change nothing. */
  let shared: Awaited<ReturnType<typeof makeWorld>>;
  beforeAll(async () => {
    shared = await makeWorld(t);
  });

  it('creates a task with every field', async () => {
    const { owner, member, project, workspace } = await team();
    const body = {
      title: 'Write the docs',
      description: 'All of them',
      status: 'in_progress',
      priority: 'urgent',
      labels: ['docs', 'easy'],
      assignee_id: member.userId,
      due_date: '2026-03-31',
      estimated_minutes: 90,
    };
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body });
    expect(res.status, res.text).toBe(201);
    const task = res.body.data;
    expect(task).toMatchObject({ ...body, project_id: project.id, workspace_id: workspace.id, number: 1 });
    expect(task.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await getTask(owner.key, task.id)).toEqual(task);
  });

  it('defaults: status is the first of the workflow, priority medium, no labels, no assignee, due date or estimate', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id, { title: 'Bare' });
    expect(task).toMatchObject({ title: 'Bare', description: '', status: 'backlog', priority: 'medium', labels: [], assignee_id: null, due_date: null, estimated_minutes: null });
  });

  it('labels are de-duplicated, keeping their first order', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id, { labels: ['bug', 'ui', 'bug', 'ui', 'api'] });
    expect(task.labels).toEqual(['bug', 'ui', 'api']);
  });

  it('an assignee who is not a member of the workspace is a 422 naming assignee_id, and creates nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const outsider = await makeUser(t);
    for (const assignee of [outsider.userId, 'user_doesnotexist000']) {
      const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', assignee_id: assignee } });
      expectError(res, 422, undefined, 'assignee_id');
    }
    expect(await taskCount(project.id)).toBe(0);
  });

  it.each(['2026-02-30', '2026-13-01', '2025-02-29', '31/12/2026', '2026-1-5', '2026-01-05T00:00:00Z'])('an invalid due date %j is a 400 naming due_date', async (due) => {
    const { owner, project } = shared;
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', due_date: due } });
    expectError(res, 400, undefined, 'due_date');
    expect(await taskCount(project.id)).toBe(0);
  });

  it('a leap day is a valid due date', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id, { due_date: '2028-02-29' });
    expect(task.due_date).toBe('2028-02-29');
  });

  it('a status outside the project workflow is a 422 INVALID_STATUS naming status', async () => {
    const { owner, project } = shared;
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', status: 'open' } });
    expectError(res, 422, 'INVALID_STATUS', 'status');
    expect(await taskCount(project.id)).toBe(0);
  });

  it.each([
    [{ title: 'x', priority: 'critical' }, 'priority'],
    [{ title: 'x', estimated_minutes: -1 }, 'estimated_minutes'],
    [{ title: 'x', estimated_minutes: 1.5 }, 'estimated_minutes'],
    [{ title: 'x', estimated_minutes: '90' }, 'estimated_minutes'],
    [{ title: '' }, 'title'],
    [{ description: 'no title' }, 'title'],
    [{ title: 'x', labels: 'bug' }, 'labels'],
    [{ title: 'x', unknown_field: 1 }, 'unknown_field'],
  ])('an ill-formed task %j is a 400 naming %s', async (body, param) => {
    const { owner, project } = shared;
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body });
    expectError(res, 400, undefined, param);
    expect(await taskCount(project.id)).toBe(0);
  });

  it('task numbers are never reused after a delete', async () => {
    const { owner, project } = await makeWorld(t);
    const one = await makeTask(t, owner, project.id);
    const two = await makeTask(t, owner, project.id);
    expect([one.number, two.number]).toEqual([1, 2]);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${two.id}`, key: owner.key })).status).toBe(200);
    const three = await makeTask(t, owner, project.id);
    expect(three.number).toBe(3);
  });

  it('a refused create (unknown status, an assignee from outside, a viewer) writes nothing and uses no number', async () => {
    const { owner, project } = await makeWorld(t);
    const { viewer, project: teamProject } = await team();
    const stranger = await makeUser(t);
    const before = await fingerprint(t.database.db);
    const refusals = await Promise.all([
      t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', status: 'nope' } }),
      t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', assignee_id: stranger.userId } }),
      t.request({ method: 'POST', url: `/v1/projects/${teamProject.id}/tasks`, key: viewer.key, body: { title: 'x' } }),
    ]);
    expect(refusals.map((r) => r.status)).toEqual([422, 422, 403]);
    expect(await fingerprint(t.database.db)).toEqual(before);
    expect((await makeTask(t, owner, project.id)).number).toBe(1);
  });

  it('numbers are per project', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const other = await makeProject(t, owner, workspace.id);
    await makeTask(t, owner, project.id);
    expect((await makeTask(t, owner, other.id)).number).toBe(1);
  });

  it('a member can create tasks; a viewer cannot (403)', async () => {
    const { member, viewer, project } = await team();
    expect((await makeTask(t, member, project.id)).number).toBe(1);
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: viewer.key, body: { title: 'nope' } });
    expectError(res, 403);
    expect(await taskCount(project.id)).toBe(1);
  });

  it("creating a task in another workspace's project answers 404", async () => {
    const { project } = await makeWorld(t);
    const stranger = await makeUser(t);
    const res = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: stranger.key, body: { title: 'intrusion' } });
    expectError(res, 404, 'NOT_FOUND');
    expect(await taskCount(project.id)).toBe(0);
  });
});

describe('GET /v1/tasks/:id and lists', () => {
  it('a viewer can read tasks and list them', async () => {
    const { owner, viewer, project } = await team();
    const task = await makeTask(t, owner, project.id);
    expect((await getTask(viewer.key, task.id)).id).toBe(task.id);
    const list = await t.request({ url: `/v1/projects/${project.id}/tasks`, key: viewer.key });
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: any) => x.id)).toEqual([task.id]);
    expect(list.body.meta.total).toBe(1);
  });

  it("another workspace's task answers 404 exactly like a missing one", async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const stranger = await makeUser(t);
    const hidden = await t.request({ url: `/v1/tasks/${task.id}`, key: stranger.key });
    const missing = await t.request({ url: '/v1/tasks/task_doesnotexist000', key: stranger.key });
    expectError(hidden, 404, 'NOT_FOUND');
    expect(hidden.body).toEqual(missing.body);
  });

  it('GET /v1/tasks lists tasks across all the caller\'s workspaces and none of anyone else\'s', async () => {
    const alice = await makeUser(t);
    const ws1 = await makeWorkspace(t, alice);
    const ws2 = await makeWorkspace(t, alice);
    const p1 = await makeProject(t, alice, ws1.id);
    const p1b = await makeProject(t, alice, ws1.id);
    const p2 = await makeProject(t, alice, ws2.id);
    const a = await makeTask(t, alice, p1.id);
    const b = await makeTask(t, alice, p1b.id);
    const c = await makeTask(t, alice, p2.id);
    const foreign = await makeWorld(t);
    const foreignTask = await makeTask(t, foreign.owner, foreign.project.id);

    const all = await t.request({ url: '/v1/tasks', key: alice.key });
    expect(all.status).toBe(200);
    expect(all.body.data.map((x: any) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(all.body.meta.total).toBe(3);

    const inWs1 = await t.request({ url: `/v1/tasks?workspace=${ws1.id}`, key: alice.key });
    expect(inWs1.body.data.map((x: any) => x.id).sort()).toEqual([a.id, b.id].sort());
    const inP2 = await t.request({ url: `/v1/tasks?project=${p2.id}`, key: alice.key });
    expect(inP2.body.data.map((x: any) => x.id)).toEqual([c.id]);

    // Filters naming someone else's workspace or project reveal nothing.
    const otherWs = await t.request({ url: `/v1/tasks?workspace=${foreign.workspace.id}`, key: alice.key });
    expect(otherWs.status).toBe(200);
    expect(otherWs.body.data).toEqual([]);
    const otherProject = await t.request({ url: `/v1/tasks?project=${foreign.project.id}`, key: alice.key });
    expect(otherProject.body.data.map((x: any) => x.id)).not.toContain(foreignTask.id);
    expect(otherProject.body.data).toEqual([]);
  });
});

describe('PUT and PATCH /v1/tasks/:id', () => {
  it.each(['PUT', 'PATCH'])('%s changes only the fields sent', async (method) => {
    const { owner, member, project } = await team();
    const task = await makeTask(t, owner, project.id, {
      title: 'Original',
      description: 'desc',
      priority: 'high',
      labels: ['a'],
      assignee_id: member.userId,
      due_date: '2026-06-01',
      estimated_minutes: 30,
    });
    const res = await t.request({ method, url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'Renamed', labels: ['b', 'b', 'c'] } });
    expect(res.status, res.text).toBe(200);
    const expected = { ...task, title: 'Renamed', labels: ['b', 'c'] };
    delete expected.updated_at;
    expect(res.body.data).toMatchObject(expected);
    expect(await getTask(owner.key, task.id)).toMatchObject(expected);
  });

  it('null clears the assignee, the due date and the estimate', async () => {
    const { owner, member, project } = await team();
    const task = await makeTask(t, owner, project.id, { assignee_id: member.userId, due_date: '2026-06-01', estimated_minutes: 30, priority: 'low' });
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { assignee_id: null, due_date: null, estimated_minutes: null } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ assignee_id: null, due_date: null, estimated_minutes: null, priority: 'low', title: task.title });
    expect(await getTask(owner.key, task.id)).toMatchObject({ assignee_id: null, due_date: null, estimated_minutes: null });
  });

  it('a status change through update must be in the workflow (422 INVALID_STATUS) and changes nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const ok = await t.request({ method: 'PUT', url: `/v1/tasks/${task.id}`, key: owner.key, body: { status: 'review' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data.status).toBe('review');
    const bad = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { status: 'closed', title: 'changed' } });
    expectError(bad, 422, 'INVALID_STATUS', 'status');
    expect(await getTask(owner.key, task.id)).toMatchObject({ status: 'review', title: task.title });
  });

  it('assigning a non-member is a 422 naming assignee_id and changes nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const outsider = await makeUser(t);
    const task = await makeTask(t, owner, project.id, { assignee_id: owner.userId });
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { assignee_id: outsider.userId } });
    expectError(res, 422, undefined, 'assignee_id');
    expect((await getTask(owner.key, task.id)).assignee_id).toBe(owner.userId);
  });

  it('an invalid due date or unknown priority in an update is a 400', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { due_date: '2026-02-30' } }), 400, undefined, 'due_date');
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { priority: 'meh' } }), 400, undefined, 'priority');
    expect(await getTask(owner.key, task.id)).toMatchObject({ due_date: null, priority: 'medium' });
  });

  it('a viewer cannot update a task (403); a member can', async () => {
    const { owner, member, viewer, project } = await team();
    const task = await makeTask(t, owner, project.id);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: viewer.key, body: { title: 'viewer' } }), 403);
    expectError(await t.request({ method: 'PUT', url: `/v1/tasks/${task.id}`, key: viewer.key, body: { title: 'viewer' } }), 403);
    expect((await getTask(owner.key, task.id)).title).toBe(task.title);
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: member.key, body: { title: 'member' } });
    expect(res.status, res.text).toBe(200);
  });

  it("updating another workspace's task answers 404 and changes nothing", async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const stranger = await makeUser(t);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: stranger.key, body: { title: 'mine' } }), 404, 'NOT_FOUND');
    expect((await getTask(owner.key, task.id)).title).toBe(task.title);
  });
});

describe('PATCH /v1/tasks/:id/move', () => {
  it('moves the task to another status of the workflow', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: owner.key, body: { status: 'in_progress' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ id: task.id, status: 'in_progress', title: task.title });
    expect((await getTask(owner.key, task.id)).status).toBe('in_progress');
  });

  it('an unknown status is a 422 INVALID_STATUS naming status, and the task stays put', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id, { status: 'todo' });
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: owner.key, body: { status: 'archived' } });
    expectError(res, 422, 'INVALID_STATUS', 'status');
    expect((await getTask(owner.key, task.id)).status).toBe('todo');
  });

  it('a missing status is a 400 naming status', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: owner.key, body: {} }), 400, undefined, 'status');
  });

  it('a viewer cannot move a task (403)', async () => {
    const { owner, viewer, project } = await team();
    const task = await makeTask(t, owner, project.id);
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: viewer.key, body: { status: 'done' } }), 403);
    expect((await getTask(owner.key, task.id)).status).toBe('backlog');
  });
});

describe('DELETE /v1/tasks/:id', () => {
  it('deletes the task and answers 200 again when repeated', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const res = await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ id: task.id, deleted: true });
    expectError(await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key }), 404, 'NOT_FOUND');
    const again = await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ id: task.id, deleted: true });
  });

  it('a viewer cannot delete a task (403) and it stays', async () => {
    const { owner, viewer, project } = await team();
    const task = await makeTask(t, owner, project.id);
    expectError(await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: viewer.key }), 403);
    expect((await getTask(owner.key, task.id)).id).toBe(task.id);
  });

  it("deleting another workspace's task answers 200 but deletes nothing", async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const stranger = await makeUser(t);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: stranger.key })).status).toBe(200);
    expect((await getTask(owner.key, task.id)).id).toBe(task.id);
  });
});

describe('events', () => {
  it('create, update, move and delete each write one event of the right type', async () => {
    const { owner, project, workspace } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id, { title: 'Evented' });
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { priority: 'high' } })).status).toBe(200);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: owner.key, body: { status: 'done' } })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key })).status).toBe(200);

    const events = await eventsFor(task.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.updated', 'task.moved', 'task.deleted']);
    for (const e of events) {
      expect(e).toMatchObject({ workspace_id: workspace.id, project_id: project.id, resource_type: 'task', actor_user_id: owner.userId, actor_key_id: owner.keyId });
    }
    expect((events[0]!.data as any).title).toBe('Evented');
    expect((events[1]!.changes as any).priority).toEqual({ from: 'medium', to: 'high' });
    expect((events[2]!.changes as any).status).toEqual({ from: 'backlog', to: 'done' });
  });

  it('a refused update, move or delete writes no event', async () => {
    const { owner, viewer, project } = await team();
    const task = await makeTask(t, owner, project.id);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { status: 'nope' } })).status).toBe(422);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}/move`, key: owner.key, body: { status: 'nope' } })).status).toBe(422);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: viewer.key })).status).toBe(403);
    expect((await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: viewer.key, body: { title: 'v' } })).status).toBe(403);
    expect((await eventsFor(task.id)).map((e) => e.type)).toEqual(['task.created']);
  });

  it('a change whose event cannot be written is rolled back with it (same transaction)', async () => {
    const { owner, project } = await makeWorld(t);
    const marker = unique('poison');
    // A trigger that refuses event rows carrying the marker, with a check-violation code the API maps to 422.
    await sql
      .raw(
        `create or replace function refuse_poisoned_event() returns trigger language plpgsql as $$
         begin
           if new.data::text like '%${marker}%' then
             raise exception 'poisoned event' using errcode = '23514';
           end if;
           return new;
         end $$`,
      )
      .execute(t.database.db);
    await sql.raw('create trigger refuse_poisoned_event before insert on events for each row execute function refuse_poisoned_event()').execute(t.database.db);
    try {
      const task = await makeTask(t, owner, project.id, { title: 'Clean' });

      const update = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: marker } });
      expect(update.status, update.text).toBe(422);
      expect((await getTask(owner.key, task.id)).title).toBe('Clean');

      const create = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: marker } });
      expect(create.status, create.text).toBe(422);
      expect(await taskCount(project.id)).toBe(1);

      // The task number reserved by the failed create is rolled back too.
      expect((await makeTask(t, owner, project.id)).number).toBe(2);

      expect((await eventsFor(task.id)).map((e) => e.type)).toEqual(['task.created']);
    } finally {
      await sql.raw('drop trigger if exists refuse_poisoned_event on events').execute(t.database.db);
      await sql.raw('drop function if exists refuse_poisoned_event()').execute(t.database.db);
    }
  });
});

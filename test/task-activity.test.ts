// A task's history: every change to it, who made it, and each field's old and new value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeTask, makeUser, makeWorld } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

describe('task activity', () => {
  it('lists every change in order with its actor and the old and new value of each field', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const member = await makeUser(t);
    await addMember(t, owner, workspace.id, member, 'member');
    const task = await makeTask(t, owner, project.id, { title: 'Draft', priority: 'low' });
    const patch = (by: typeof owner, body: Record<string, unknown>, url = `/v1/tasks/${task.id}`) => t.request({ method: 'PATCH', url, key: by.key, body });
    expect((await patch(owner, { title: 'Final', priority: 'high' })).status).toBe(200);
    expect((await patch(member, { status: 'in_progress' }, `/v1/tasks/${task.id}/move`)).status).toBe(200);
    const sprint = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/sprints`, key: owner.key, body: { name: 'S1' } });
    expect((await patch(member, { sprint_id: sprint.body.data.id })).status).toBe(200);

    const res = await t.request({ url: `/v1/tasks/${task.id}/activity`, key: member.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.meta.total).toBe(4);
    const entries = res.body.data;
    expect(entries.map((e: { type: string }) => e.type)).toEqual(['task.created', 'task.updated', 'task.moved', 'task.updated']);
    expect(entries[0]).toMatchObject({ changes: null, actor: { user_id: owner.userId, key_id: owner.keyId } });
    expect(entries[1].changes).toEqual({ title: { from: 'Draft', to: 'Final' }, priority: { from: 'low', to: 'high' } });
    expect(entries[2]).toMatchObject({ changes: { status: { from: 'backlog', to: 'in_progress' } }, actor: { user_id: member.userId } });
    expect(entries[3].changes).toEqual({ sprint_id: { from: null, to: sprint.body.data.id } });
    for (let i = 1; i < entries.length; i++) expect(Date.parse(entries[i].occurred_at)).toBeGreaterThanOrEqual(Date.parse(entries[i - 1].occurred_at));

    const newest = await t.request({ url: `/v1/tasks/${task.id}/activity?order=desc&per_page=1&page=2`, key: owner.key });
    expect(newest.body.data.map((e: { id: string }) => e.id)).toEqual([entries[2].id]);
    expect(newest.headers.link).toContain('rel="next"');
  });

  it("is a 404 for another workspace's task or a deleted one, exactly as for one that never existed", async () => {
    const { owner, project } = await makeWorld(t);
    const stranger = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const theirs = await t.request({ url: `/v1/tasks/${task.id}/activity`, key: stranger.owner.key });
    const missing = await t.request({ url: '/v1/tasks/task_doesnotexist0000/activity', key: stranger.owner.key });
    expectError(theirs, 404, 'NOT_FOUND');
    expect(theirs.text).toBe(missing.text);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key })).status).toBe(200);
    expectError(await t.request({ url: `/v1/tasks/${task.id}/activity`, key: owner.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/tasks/${task.id}/activity?order=sideways`, key: owner.key }), 400);
  });
});

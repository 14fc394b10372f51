// Comments on tasks: members write them, only the author edits one, the author or an admin
// deletes it, and they go with their task; include=comments embeds them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function comment(by: Actor, taskId: string, body: string) {
  const res = await t.request({ method: 'POST', url: `/v1/tasks/${taskId}/comments`, key: by.key, body: { body } });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

async function team() {
  const world = await makeWorld(t);
  const [admin, member, other, viewer] = [await makeUser(t), await makeUser(t), await makeUser(t), await makeUser(t)];
  await addMember(t, world.owner, world.workspace.id, admin, 'admin');
  await addMember(t, world.owner, world.workspace.id, member, 'member');
  await addMember(t, world.owner, world.workspace.id, other, 'member');
  await addMember(t, world.owner, world.workspace.id, viewer, 'viewer');
  const task = await makeTask(t, world.owner, world.project.id);
  return { ...world, admin, member, other, viewer, task };
}

describe('comments', () => {
  it('writes, lists, gets and edits comments, each change with its event', async () => {
    const { member, task, viewer } = await team();
    const first = await comment(member, task.id, 'First!');
    expect(first).toMatchObject({ task_id: task.id, project_id: task.project_id, workspace_id: task.workspace_id, author_id: member.userId, body: 'First!', edited: false });
    expect(first.id).toMatch(/^cmt_/);
    const second = await comment(member, task.id, 'Second');
    const listed = await t.request({ url: `/v1/tasks/${task.id}/comments`, key: viewer.key });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual([first.id, second.id]);
    expect(listed.body.meta.total).toBe(2);
    const newest = await t.request({ url: `/v1/tasks/${task.id}/comments?order=desc&per_page=1`, key: viewer.key });
    expect(newest.body.data.map((c: { id: string }) => c.id)).toEqual([second.id]);
    const got = await t.request({ url: `/v1/comments/${first.id}`, key: viewer.key });
    expect(got.body.data).toEqual(first);
    const edited = await t.request({ method: 'PATCH', url: `/v1/comments/${first.id}`, key: member.key, body: { body: 'First, edited' }, headers: { 'if-match': String(got.headers.etag) } });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.data).toMatchObject({ body: 'First, edited', edited: true });
    const events = await t.database.db.selectFrom('events').select(['type', 'changes']).where('resource_id', '=', first.id).orderBy('seq').execute();
    expect(events.map((e) => e.type)).toEqual(['comment.created', 'comment.updated']);
    expect(events[1]!.changes).toMatchObject({ body: { from: 'First!', to: 'First, edited' } });
    expectError(await t.request({ method: 'PATCH', url: `/v1/comments/${first.id}`, key: member.key, body: { body: 'x' }, headers: { 'if-match': String(got.headers.etag) } }), 412, 'PRECONDITION_FAILED');
  });

  it('lets only the author edit a comment, and only the author or an admin delete it; viewers only read', async () => {
    const { owner, admin, member, other, viewer, task } = await team();
    const c = await comment(member, task.id, 'Mine');
    const before = await fingerprint(t.database.db);
    for (const who of [other, admin, owner]) expectError(await t.request({ method: 'PATCH', url: `/v1/comments/${c.id}`, key: who.key, body: { body: 'Yours now' } }), 403, 'NOT_AUTHOR');
    expectError(await t.request({ method: 'PATCH', url: `/v1/comments/${c.id}`, key: viewer.key, body: { body: 'x' } }), 403);
    expectError(await t.request({ method: 'DELETE', url: `/v1/comments/${c.id}`, key: other.key }), 403, 'NOT_AUTHOR');
    expectError(await t.request({ method: 'DELETE', url: `/v1/comments/${c.id}`, key: viewer.key }), 403);
    expectError(await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: viewer.key, body: { body: 'hello' } }), 403);
    expect(await fingerprint(t.database.db)).toEqual(before);
    expect((await t.request({ method: 'DELETE', url: `/v1/comments/${c.id}`, key: admin.key })).status).toBe(200);
    const own = await comment(member, task.id, 'Again');
    expect((await t.request({ method: 'DELETE', url: `/v1/comments/${own.id}`, key: member.key })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/comments/${own.id}`, key: member.key })).status).toBe(200);
    expectError(await t.request({ url: `/v1/comments/${own.id}`, key: member.key }), 404, 'NOT_FOUND');
    expect((await t.database.db.selectFrom('events').select('type').where('resource_id', '=', own.id).execute()).map((e) => e.type)).toEqual(['comment.created', 'comment.deleted']);
  });

  it('refuses an empty or oversized body, and answers 404 outside the workspace', async () => {
    const { member, task } = await team();
    const stranger = await makeUser(t);
    const c = await comment(member, task.id, 'ok');
    const before = await fingerprint(t.database.db);
    expectError(await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: member.key, body: { body: '' } }), 400, undefined, 'body');
    expectError(await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: member.key, body: { body: 'x'.repeat(65_536) } }), 400, undefined, 'body');
    expectError(await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: member.key, body: { body: 'x', author_id: stranger.userId } }), 400);
    expectError(await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: stranger.key, body: { body: 'x' } }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/tasks/${task.id}/comments`, key: stranger.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/comments/${c.id}`, key: stranger.key }), 404, 'NOT_FOUND');
    expect((await t.request({ method: 'DELETE', url: `/v1/comments/${c.id}`, key: stranger.key })).status).toBe(200);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('embeds the most recent comments with include=comments, and deletes them with their task', async () => {
    const { owner, member, task } = await team();
    const a = await comment(member, task.id, 'a');
    const b = await comment(owner, task.id, 'b');
    const got = await t.request({ url: `/v1/tasks/${task.id}?include=comments`, key: member.key });
    expect(got.status).toBe(200);
    expect(got.body.data.comments.map((c: { id: string }) => c.id)).toEqual([b.id, a.id]);
    expect(got.body.data.comments[0]).toEqual(b);
    const listed = await t.request({ url: `/v1/projects/${task.project_id}/tasks?include=comments`, key: member.key });
    expect(listed.body.data[0].comments.length).toBe(2);
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key })).status).toBe(200);
    expect((await t.database.db.selectFrom('comments').select('id').where('task_id', '=', task.id).execute()).length).toBe(0);
    expectError(await t.request({ url: `/v1/comments/${a.id}`, key: member.key }), 404, 'NOT_FOUND');
  });
});

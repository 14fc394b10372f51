// Labels: a workspace's named, coloured tags. Tasks name them (whatever the case); a new name
// creates its label; renaming or deleting a label reaches every task that carries it.
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

function createLabel(by: Actor, workspaceId: string, body: Record<string, unknown>) {
  return t.request({ method: 'POST', url: `/v1/workspaces/${workspaceId}/labels`, key: by.key, body });
}

async function labelsOf(by: Actor, workspaceId: string) {
  const res = await t.request({ url: `/v1/workspaces/${workspaceId}/labels?per_page=100`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res.body.data as Array<{ id: string; name: string; color: string }>;
}

function eventsOf(type: string, resourceId: string) {
  return t.database.db.selectFrom('events').selectAll().where('type', '=', type).where('resource_id', '=', resourceId).execute();
}

describe('labels', () => {
  it('creates, gets, lists by name, updates and deletes a label, each change with its event', async () => {
    const { owner, workspace } = await makeWorld(t);
    const bug = await createLabel(owner, workspace.id, { name: 'bug', color: '#D73A4A', description: 'Something is broken' });
    expect(bug.status, bug.text).toBe(201);
    expect(bug.body.data).toMatchObject({ workspace_id: workspace.id, name: 'bug', color: '#d73a4a', description: 'Something is broken' });
    expect(bug.body.data.id).toMatch(/^lbl_/);
    const api = await createLabel(owner, workspace.id, { name: 'API' });
    expect(api.body.data.color).toMatch(/^#[0-9a-f]{6}$/);
    expect((await labelsOf(owner, workspace.id)).map((l) => l.name)).toEqual(['API', 'bug']);
    const got = await t.request({ url: `/v1/labels/${bug.body.data.id}`, key: owner.key });
    expect(got.body.data).toEqual(bug.body.data);
    const updated = await t.request({ method: 'PATCH', url: `/v1/labels/${bug.body.data.id}`, key: owner.key, body: { color: '#000000' }, headers: { 'if-match': String(got.headers.etag) } });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.body.data).toMatchObject({ name: 'bug', color: '#000000', description: 'Something is broken' });
    expect((await eventsOf('label.updated', bug.body.data.id))[0]!.changes).toEqual({ color: { from: '#d73a4a', to: '#000000' } });
    const stale = await t.request({ method: 'PATCH', url: `/v1/labels/${bug.body.data.id}`, key: owner.key, body: { color: '#111111' }, headers: { 'if-match': String(got.headers.etag) } });
    expectError(stale, 412, 'PRECONDITION_FAILED');
    expect((await t.request({ method: 'DELETE', url: `/v1/labels/${bug.body.data.id}`, key: owner.key })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/labels/${bug.body.data.id}`, key: owner.key })).status).toBe(200);
    expectError(await t.request({ url: `/v1/labels/${bug.body.data.id}`, key: owner.key }), 404, 'NOT_FOUND');
    expect((await eventsOf('label.created', bug.body.data.id)).length).toBe(1);
    expect((await eventsOf('label.deleted', bug.body.data.id)).length).toBe(1);
  });

  it('keeps names unique in a workspace whatever their case, and refuses bad names and colours, writing nothing', async () => {
    const { owner, workspace } = await makeWorld(t);
    const other = await makeWorld(t);
    expect((await createLabel(owner, workspace.id, { name: 'Bug' })).status).toBe(201);
    const before = await fingerprint(t.database.db);
    expectError(await createLabel(owner, workspace.id, { name: 'bug' }), 409, 'NAME_TAKEN', 'name');
    for (const name of ['', 'a,b', ' padded', 'trailing ', 'x'.repeat(51)]) expectError(await createLabel(owner, workspace.id, { name }), 400, undefined, 'name');
    for (const color of ['red', '#12345', '#1234567', '#GGGGGG']) expectError(await createLabel(owner, workspace.id, { name: 'ok', color }), 400, undefined, 'color');
    expect(await fingerprint(t.database.db)).toEqual(before);
    // Another workspace has its own names.
    expect((await createLabel(other.owner, other.workspace.id, { name: 'bug' })).status).toBe(201);
    const second = await createLabel(owner, workspace.id, { name: 'Feature' });
    const rename = await t.request({ method: 'PATCH', url: `/v1/labels/${second.body.data.id}`, key: owner.key, body: { name: 'BUG' } });
    expectError(rename, 409, 'NAME_TAKEN', 'name');
  });

  it('gives a task the workspace\'s spelling of each label it names, and creates the labels it does not have, with their events', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    await createLabel(owner, workspace.id, { name: 'Backend' });
    const task = await makeTask(t, owner, project.id, { labels: ['backend', 'frontend', 'BACKEND'] });
    expect(task.labels).toEqual(['Backend', 'frontend']);
    const labels = await labelsOf(owner, workspace.id);
    expect(labels.map((l) => l.name)).toEqual(['Backend', 'frontend']);
    const frontend = labels.find((l) => l.name === 'frontend')!;
    expect((await eventsOf('label.created', frontend.id)).length).toBe(1);
    const [created] = await eventsOf('task.created', task.id);
    expect((created!.data as { labels: string[] }).labels).toEqual(['Backend', 'frontend']);
    const patched = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { labels: ['FRONTEND', 'ops'] } });
    expect(patched.body.data.labels).toEqual(['frontend', 'ops']);
    const batch = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks/batch`, key: owner.key, body: { tasks: [{ title: 'a', labels: ['OPS', 'docs'] }, { title: 'b', labels: ['Docs'] }] } });
    expect(batch.status, batch.text).toBe(201);
    expect(batch.body.data.map((r: any) => r.data.labels)).toEqual([['ops', 'docs'], ['docs']]);
    const filtered = await t.request({ url: `/v1/projects/${project.id}/tasks?label=docs`, key: owner.key });
    expect(filtered.body.data.map((x: any) => x.title).sort()).toEqual(['a', 'b']);
    expect((await labelsOf(owner, workspace.id)).map((l) => l.name)).toEqual(['Backend', 'docs', 'frontend', 'ops']);
  });

  it('creates no label for a task that is refused', async () => {
    const { owner, project } = await makeWorld(t);
    const before = await fingerprint(t.database.db);
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: 'x', labels: ['brand-new'], status: 'nope' } }), 422, 'INVALID_STATUS');
    const batch = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks/batch?atomic=false`, key: owner.key, body: { tasks: [{ title: 'x', labels: ['brand-new'], status: 'nope' }] } });
    expect(batch.status).toBe(207);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('renaming a label renames it on every task that carries it, and deleting it takes it off them, each task with its event and a new version', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const a = await makeTask(t, owner, project.id, { labels: ['old', 'keep'] });
    const b = await makeTask(t, owner, project.id, { labels: ['old'] });
    const c = await makeTask(t, owner, project.id, { labels: ['keep'] });
    const old = (await labelsOf(owner, workspace.id)).find((l) => l.name === 'old')!;
    const etag = (await t.request({ url: `/v1/tasks/${a.id}`, key: owner.key })).headers.etag;
    const renamed = await t.request({ method: 'PATCH', url: `/v1/labels/${old.id}`, key: owner.key, body: { name: 'new' } });
    expect(renamed.status, renamed.text).toBe(200);
    const got = await t.request({ url: `/v1/tasks/${a.id}`, key: owner.key });
    expect(got.body.data.labels).toEqual(['new', 'keep']);
    expect(got.headers.etag).not.toBe(etag);
    expect((await t.request({ url: `/v1/tasks/${b.id}`, key: owner.key })).body.data.labels).toEqual(['new']);
    const events = (await eventsOf('task.updated', a.id)).concat(await eventsOf('task.updated', b.id), await eventsOf('task.updated', c.id));
    expect(events.map((e) => [e.resource_id, e.changes])).toEqual([
      [a.id, { labels: { from: ['old', 'keep'], to: ['new', 'keep'] } }],
      [b.id, { labels: { from: ['old'], to: ['new'] } }],
    ]);
    expect((await t.request({ method: 'DELETE', url: `/v1/labels/${old.id}`, key: owner.key })).status).toBe(200);
    expect((await t.request({ url: `/v1/tasks/${a.id}`, key: owner.key })).body.data.labels).toEqual(['keep']);
    expect((await t.request({ url: `/v1/tasks/${b.id}`, key: owner.key })).body.data.labels).toEqual([]);
  });

  it('lets viewers read labels, members create and edit them, and only admins delete them; a stranger gets 404', async () => {
    const { owner, workspace } = await makeWorld(t);
    const member = await makeUser(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, member, 'member');
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const stranger = await makeUser(t);
    expectError(await createLabel(viewer, workspace.id, { name: 'v' }), 403);
    const made = await createLabel(member, workspace.id, { name: 'm' });
    expect(made.status).toBe(201);
    expect((await labelsOf(viewer, workspace.id)).map((l) => l.name)).toEqual(['m']);
    expect((await t.request({ method: 'PATCH', url: `/v1/labels/${made.body.data.id}`, key: member.key, body: { description: 'mine' } })).status).toBe(200);
    expectError(await t.request({ method: 'DELETE', url: `/v1/labels/${made.body.data.id}`, key: member.key }), 403);
    expectError(await t.request({ url: `/v1/labels/${made.body.data.id}`, key: stranger.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/workspaces/${workspace.id}/labels`, key: stranger.key }), 404, 'NOT_FOUND');
    expect((await t.request({ method: 'DELETE', url: `/v1/labels/${made.body.data.id}`, key: owner.key })).status).toBe(200);
  });

  it('makes one label when many tasks name the same new label at once', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, body: { title: `t${i}`, labels: [i % 2 ? 'Hot' : 'hot'] } })));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    const labels = await labelsOf(owner, workspace.id);
    expect(labels.length).toBe(1);
    expect(new Set(results.map((r) => r.body.data.labels[0]))).toEqual(new Set([labels[0]!.name]));
    expect((await eventsOf('label.created', labels[0]!.id)).length).toBe(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
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

/** An owner with a workspace and a project, plus an admin, a member and a viewer. */
async function team() {
  const [owner, admin, member, viewer] = await Promise.all([makeUser(t), makeUser(t), makeUser(t), makeUser(t)]);
  const workspace = await makeWorkspace(t, owner);
  await addMember(t, owner, workspace.id, admin, 'admin');
  await addMember(t, owner, workspace.id, member, 'member');
  await addMember(t, owner, workspace.id, viewer, 'viewer');
  const project = await makeProject(t, owner, workspace.id);
  return { owner, admin, member, viewer, workspace, project };
}

async function getProject(key: string, id: string): Promise<any> {
  const res = await t.request({ url: `/v1/projects/${id}`, key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

async function projectCount(workspaceId: string): Promise<number> {
  const rows = await t.database.db.selectFrom('projects').select('id').where('workspace_id', '=', workspaceId).execute();
  return rows.length;
}

const DEFAULT_STATUSES = ['backlog', 'todo', 'in_progress', 'review', 'done'];

describe('POST /v1/workspaces/:id/projects', () => {
  it('creates a project with a derived slug, an empty description and the default workflow', async () => {
    const { owner, workspace } = await makeWorld(t);
    const tag = unique('');
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key, body: { name: `Mobile App ${tag}` } });
    expect(res.status, res.text).toBe(201);
    const p = res.body.data;
    expect(p.id).toMatch(/^proj_/);
    expect(p).toMatchObject({ workspace_id: workspace.id, name: `Mobile App ${tag}`, slug: `mobile-app-${tag}`, description: '', statuses: DEFAULT_STATUSES });
    expect(Object.keys(p).sort()).toEqual(['created_at', 'description', 'id', 'name', 'slug', 'statuses', 'updated_at', 'workspace_id']);
  });

  it('accepts an explicit slug and description', async () => {
    const { owner, workspace } = await makeWorld(t);
    const p = await makeProject(t, owner, workspace.id, { name: 'Website', slug: 'www', description: 'The public site' });
    expect(p).toMatchObject({ name: 'Website', slug: 'www', description: 'The public site' });
  });

  it('a name already used in the workspace, in any letter case, is a 409 naming name', async () => {
    const { owner, workspace } = await makeWorld(t);
    await makeProject(t, owner, workspace.id, { name: 'Roadmap' });
    const before = await projectCount(workspace.id);
    for (const name of ['Roadmap', 'ROADMAP', 'roadmap']) {
      const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key, body: { name, slug: unique('rm-') } });
      expectError(res, 409, undefined, 'name');
    }
    expect(await projectCount(workspace.id)).toBe(before);
  });

  it('an explicit slug already used in the workspace is a 409 naming slug', async () => {
    const { owner, workspace } = await makeWorld(t);
    await makeProject(t, owner, workspace.id, { name: 'One', slug: 'shared-slug' });
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key, body: { name: 'Two', slug: 'shared-slug' } });
    expectError(res, 409, undefined, 'slug');
  });

  it('a derived slug that is taken is de-duplicated', async () => {
    const { owner, workspace } = await makeWorld(t);
    const a = await makeProject(t, owner, workspace.id, { name: 'Road map' });
    const b = await makeProject(t, owner, workspace.id, { name: 'Road-map!' });
    expect(a.slug).toBe('road-map');
    expect(b.slug).toBe('road-map-2');
  });

  it('projects created at the same moment whose names derive the same slug each get their own slug', async () => {
    const { owner, workspace } = await makeWorld(t);
    const names = ['Sync Engine', 'sync-engine!', 'Sync  Engine', '(Sync) Engine'];
    const results = await Promise.all(
      names.map((name) => t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key, body: { name } })),
    );
    for (const r of results) expect(r.status, r.text).toBe(201);
    expect(results.map((r) => r.body.data.slug).sort()).toEqual(['sync-engine', 'sync-engine-2', 'sync-engine-3', 'sync-engine-4']);
  });

  it('the same name and slug in another workspace are fine', async () => {
    const { owner, workspace } = await makeWorld(t);
    const other = await makeWorkspace(t, owner);
    const a = await makeProject(t, owner, workspace.id, { name: 'Backend', slug: 'backend' });
    const b = await makeProject(t, owner, other.id, { name: 'Backend', slug: 'backend' });
    expect(b.id).not.toBe(a.id);
    expect(b).toMatchObject({ workspace_id: other.id, name: 'Backend', slug: 'backend' });
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'Bad slug', slug: 'Not A Slug' }, 'slug'],
    [{ name: 'Unknown', colour: 'red' }, 'colour'],
  ])('an ill-formed project %j is a 400 naming %s', async (body, param) => {
    const { owner, workspace } = await makeWorld(t);
    const before = await projectCount(workspace.id);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key, body });
    expectError(res, 400, undefined, param);
    expect(await projectCount(workspace.id)).toBe(before);
  });

  it('an admin can create a project', async () => {
    const { admin, workspace } = await team();
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: admin.key, body: { name: unique('By admin ') } });
    expect(res.status, res.text).toBe(201);
  });

  it.each(['member', 'viewer'] as const)('a %s cannot create a project (403)', async (role) => {
    const world = await team();
    const before = await projectCount(world.workspace.id);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${world.workspace.id}/projects`, key: world[role].key, body: { name: unique('Nope ') } });
    expectError(res, 403);
    expect(await projectCount(world.workspace.id)).toBe(before);
  });

  it("creating a project in another user's workspace answers 404", async () => {
    const { workspace } = await makeWorld(t);
    const stranger = await makeUser(t);
    const before = await projectCount(workspace.id);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: stranger.key, body: { name: 'Intruder' } });
    expectError(res, 404, 'NOT_FOUND');
    expect(await projectCount(workspace.id)).toBe(before);
  });
});

describe('GET /v1/workspaces/:id/projects and /v1/projects/:id', () => {
  it('lists the projects of the workspace only, with meta, newest first', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const second = await makeProject(t, owner, workspace.id);
    const elsewhere = await makeWorld(t);
    const res = await t.request({ url: `/v1/workspaces/${workspace.id}/projects`, key: owner.key });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((p: any) => p.id);
    expect(ids.sort()).toEqual([project.id, second.id].sort());
    expect(ids).not.toContain(elsewhere.project.id);
    expect(res.body.meta).toEqual({ page: 1, per_page: 25, total: 2, count: 2, current_page: 1, total_pages: 1 });
  });

  it('sorts by name on request', async () => {
    const { owner, workspace } = await makeWorld(t);
    await makeProject(t, owner, workspace.id, { name: 'Zulu' });
    await makeProject(t, owner, workspace.id, { name: 'Alpha' });
    const res = await t.request({ url: `/v1/workspaces/${workspace.id}/projects?sort=name&order=asc`, key: owner.key });
    expect(res.status).toBe(200);
    const names = res.body.data.map((p: any) => p.name);
    expect(names[0]).toBe('Alpha');
    expect(names[names.length - 1]).toBe('Zulu');
  });

  it('a viewer can list and read projects', async () => {
    const { viewer, workspace, project } = await team();
    const list = await t.request({ url: `/v1/workspaces/${workspace.id}/projects`, key: viewer.key });
    expect(list.status).toBe(200);
    expect(list.body.data.map((p: any) => p.id)).toEqual([project.id]);
    expect(await getProject(viewer.key, project.id)).toMatchObject({ id: project.id, name: project.name, statuses: DEFAULT_STATUSES });
  });

  it("another workspace's project answers 404 exactly like a missing one", async () => {
    const { project } = await makeWorld(t);
    const stranger = await makeUser(t);
    const hidden = await t.request({ url: `/v1/projects/${project.id}`, key: stranger.key });
    const missing = await t.request({ url: '/v1/projects/proj_doesnotexist0000', key: stranger.key });
    expectError(hidden, 404, 'NOT_FOUND');
    expect(hidden.body).toEqual(missing.body);
    expectError(await t.request({ url: `/v1/workspaces/${project.workspace_id}/projects`, key: stranger.key }), 404, 'NOT_FOUND');
  });
});

describe('PUT and PATCH /v1/projects/:id', () => {
  it.each(['PUT', 'PATCH'])('%s changes only the fields sent', async (method) => {
    const { owner, project } = await makeWorld(t);
    const name = unique('Renamed ');
    const res = await t.request({ method, url: `/v1/projects/${project.id}`, key: owner.key, body: { name } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ id: project.id, name, slug: project.slug, description: '' });

    const desc = await t.request({ method, url: `/v1/projects/${project.id}`, key: owner.key, body: { description: 'Now described', slug: 'new-slug' } });
    expect(desc.status, desc.text).toBe(200);
    expect(await getProject(owner.key, project.id)).toMatchObject({ name, slug: 'new-slug', description: 'Now described', statuses: DEFAULT_STATUSES });
  });

  it('renaming a project to a new letter case of its own name is allowed', async () => {
    const { owner, workspace } = await makeWorld(t);
    const p = await makeProject(t, owner, workspace.id, { name: 'casing' });
    const res = await t.request({ method: 'PATCH', url: `/v1/projects/${p.id}`, key: owner.key, body: { name: 'Casing' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.name).toBe('Casing');
  });

  it("renaming to another project's name (any case) is a 409 naming name and changes nothing", async () => {
    const { owner, workspace, project } = await makeWorld(t);
    await makeProject(t, owner, workspace.id, { name: 'Taken Name' });
    const res = await t.request({ method: 'PATCH', url: `/v1/projects/${project.id}`, key: owner.key, body: { name: 'taken name', description: 'x' } });
    expectError(res, 409, undefined, 'name');
    expect(await getProject(owner.key, project.id)).toMatchObject({ name: project.name, description: '' });
  });

  it("changing the slug to another project's slug is a 409 naming slug", async () => {
    const { owner, workspace, project } = await makeWorld(t);
    await makeProject(t, owner, workspace.id, { name: unique('Other '), slug: 'occupied' });
    const res = await t.request({ method: 'PUT', url: `/v1/projects/${project.id}`, key: owner.key, body: { slug: 'occupied' } });
    expectError(res, 409, undefined, 'slug');
    expect((await getProject(owner.key, project.id)).slug).toBe(project.slug);
  });

  it('an admin can update a project', async () => {
    const { admin, project } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/projects/${project.id}`, key: admin.key, body: { description: 'admin was here' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.description).toBe('admin was here');
  });

  it.each(['member', 'viewer'] as const)('a %s cannot update a project (403) and nothing changes', async (role) => {
    const world = await team();
    for (const method of ['PUT', 'PATCH']) {
      const res = await t.request({ method, url: `/v1/projects/${world.project.id}`, key: world[role].key, body: { name: 'Hijacked' } });
      expectError(res, 403);
    }
    expect((await getProject(world.owner.key, world.project.id)).name).toBe(world.project.name);
  });

  it("updating another workspace's project answers 404 and changes nothing", async () => {
    const { owner, project } = await makeWorld(t);
    const stranger = await makeUser(t);
    await makeWorkspace(t, stranger);
    const res = await t.request({ method: 'PATCH', url: `/v1/projects/${project.id}`, key: stranger.key, body: { name: 'Mine' } });
    expectError(res, 404, 'NOT_FOUND');
    expect((await getProject(owner.key, project.id)).name).toBe(project.name);
  });
});

describe('DELETE /v1/projects/:id', () => {
  it('deletes the project and its tasks, and answers 200 again when repeated', async () => {
    const { owner, project } = await makeWorld(t);
    const tasks = await Promise.all([makeTask(t, owner, project.id), makeTask(t, owner, project.id)]);
    const res = await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: owner.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ id: project.id, deleted: true });

    expectError(await t.request({ url: `/v1/projects/${project.id}`, key: owner.key }), 404, 'NOT_FOUND');
    for (const task of tasks) expectError(await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/projects/${project.id}/tasks`, key: owner.key }), 404, 'NOT_FOUND');
    const rows = await t.database.db.selectFrom('tasks').select('id').where('project_id', '=', project.id).execute();
    expect(rows).toEqual([]);

    const again = await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: owner.key });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ id: project.id, deleted: true });
  });

  it('a deleted project frees its name and slug', async () => {
    const { owner, workspace } = await makeWorld(t);
    const p = await makeProject(t, owner, workspace.id, { name: 'Phoenix', slug: 'phoenix' });
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${p.id}`, key: owner.key })).status).toBe(200);
    const again = await makeProject(t, owner, workspace.id, { name: 'Phoenix', slug: 'phoenix' });
    expect(again.id).not.toBe(p.id);
  });

  it('an admin can delete a project', async () => {
    const { admin, owner, project } = await team();
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: admin.key })).status).toBe(200);
    expectError(await t.request({ url: `/v1/projects/${project.id}`, key: owner.key }), 404);
  });

  it.each(['member', 'viewer'] as const)('a %s cannot delete a project (403) and it stays', async (role) => {
    const world = await team();
    const res = await t.request({ method: 'DELETE', url: `/v1/projects/${world.project.id}`, key: world[role].key });
    expectError(res, 403);
    expect((await getProject(world.owner.key, world.project.id)).id).toBe(world.project.id);
  });

  it("deleting another workspace's project answers 200 but deletes nothing", async () => {
    const { owner, project } = await makeWorld(t);
    const stranger = await makeUser(t);
    await makeWorkspace(t, stranger);
    const res = await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: stranger.key });
    expect(res.status).toBe(200);
    expect((await getProject(owner.key, project.id)).id).toBe(project.id);
  });
});

describe('project events', () => {
  it('create, update and delete each write one event of the right type', async () => {
    const { owner, workspace } = await makeWorld(t);
    const p = await makeProject(t, owner, workspace.id, { name: 'Evented' });
    expect((await t.request({ method: 'PATCH', url: `/v1/projects/${p.id}`, key: owner.key, body: { description: 'changed' } })).status).toBe(200);
    expect((await t.request({ method: 'PATCH', url: `/v1/projects/${p.id}`, key: owner.key, body: { slug: 'Bad Slug' } })).status).toBe(400);
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${p.id}`, key: owner.key })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${p.id}`, key: owner.key })).status).toBe(200);
    const events = await t.database.db.selectFrom('events').selectAll().where('resource_id', '=', p.id).orderBy('seq', 'asc').execute();
    expect(events.map((e) => e.type)).toEqual(['project.created', 'project.updated', 'project.deleted']);
    for (const e of events) expect(e).toMatchObject({ workspace_id: workspace.id, resource_type: 'project', actor_user_id: owner.userId });
    expect((events[1]!.changes as any).description).toEqual({ from: '', to: 'changed' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeProject, makeUser, makeWorkspace, unique, type Actor } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many users are minted with the bootstrap key; rate limits are covered elsewhere.
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

/** An owner with a workspace, plus an admin, a member and a viewer in it; memberships by role. */
async function team() {
  const [owner, admin, member, viewer] = await Promise.all([makeUser(t), makeUser(t), makeUser(t), makeUser(t)]);
  const workspace = await makeWorkspace(t, owner);
  const adminM = await addMember(t, owner, workspace.id, admin, 'admin');
  const memberM = await addMember(t, owner, workspace.id, member, 'member');
  const viewerM = await addMember(t, owner, workspace.id, viewer, 'viewer');
  const list = await t.request({ url: `/v1/workspaces/${workspace.id}/members`, key: owner.key });
  const ownerM = list.body.data.find((m: any) => m.user_id === owner.userId);
  expect(ownerM?.role).toBe('owner');
  return { owner, admin, member, viewer, workspace, memberships: { owner: ownerM, admin: adminM, member: memberM, viewer: viewerM } };
}

async function members(key: string, workspaceId: string): Promise<any[]> {
  const res = await t.request({ url: `/v1/workspaces/${workspaceId}/members?per_page=100`, key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

async function roleOf(workspaceId: string, userId: string): Promise<string | undefined> {
  const row = await t.database.db.selectFrom('memberships').select('role').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).executeTakeFirst();
  return row?.role;
}

describe('GET /v1/workspaces/:id/members', () => {
  it('lists every member with role and user, and full page meta', async () => {
    const { owner, admin, member, viewer, workspace, memberships } = await team();
    const res = await t.request({ url: `/v1/workspaces/${workspace.id}/members`, key: viewer.key });
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ page: 1, per_page: 25, total: 4, count: 4, current_page: 1, total_pages: 1 });
    const byUser = new Map<string, any>(res.body.data.map((m: any) => [m.user_id, m]));
    expect(byUser.get(owner.userId)).toMatchObject({ role: 'owner', workspace_id: workspace.id, user: { id: owner.userId, email: owner.email } });
    expect(byUser.get(admin.userId)).toMatchObject({ id: memberships.admin.id, role: 'admin' });
    expect(byUser.get(member.userId)).toMatchObject({ id: memberships.member.id, role: 'member' });
    expect(byUser.get(viewer.userId)).toMatchObject({ id: memberships.viewer.id, role: 'viewer', user: { email: viewer.email } });
  });

  it('paginates with per_page and page', async () => {
    const { owner, workspace } = await team();
    const page2 = await t.request({ url: `/v1/workspaces/${workspace.id}/members?per_page=3&page=2`, key: owner.key });
    expect(page2.status).toBe(200);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.meta).toEqual({ page: 2, per_page: 3, total: 4, count: 1, current_page: 2, total_pages: 2 });
  });

  it('filters by role', async () => {
    const { owner, admin, workspace } = await team();
    const res = await t.request({ url: `/v1/workspaces/${workspace.id}/members?role=admin`, key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.map((m: any) => m.user_id)).toEqual([admin.userId]);
    expect(res.body.meta.total).toBe(1);
  });

  it("another workspace's member list answers 404", async () => {
    const { workspace } = await team();
    const stranger = await makeUser(t);
    expectError(await t.request({ url: `/v1/workspaces/${workspace.id}/members`, key: stranger.key }), 404, 'NOT_FOUND');
  });
});

describe('POST /v1/workspaces/:id/members', () => {
  it('inviting a new email creates the user and adds them with the given role', async () => {
    const { owner, workspace } = await team();
    const email = `${unique('newbie')}@example.test`;
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body: { email, role: 'viewer', name: 'New Bie' } });
    expect(res.status, res.text).toBe(201);
    const m = res.body.data;
    expect(m.id).toMatch(/^mem_/);
    expect(m).toMatchObject({ workspace_id: workspace.id, role: 'viewer', user: { email, name: 'New Bie' } });
    expect(m.user_id).toMatch(/^user_/);
    expect(m.user.id).toBe(m.user_id);

    const users = await t.database.db.selectFrom('users').selectAll().where('email', '=', email).execute();
    expect(users).toHaveLength(1);
    expect(users[0]!.id).toBe(m.user_id);
    const listed = (await members(owner.key, workspace.id)).find((x) => x.user_id === m.user_id);
    expect(listed).toMatchObject({ id: m.id, role: 'viewer', user: { email } });
  });

  it('the role defaults to member', async () => {
    const { owner, workspace } = await team();
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body: { email: `${unique('d')}@example.test` } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.role).toBe('member');
  });

  it('inviting an existing user adds that user (matching the email case-insensitively) without creating another', async () => {
    const { owner, workspace } = await team();
    const existing = await makeUser(t);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body: { email: existing.email.toUpperCase(), role: 'member' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.user_id).toBe(existing.userId);
    const sameEmail = await t.database.db.selectFrom('users').select('id').where('email', 'ilike', existing.email).execute();
    expect(sameEmail).toHaveLength(1);
    // The existing user's key reaches the workspace at once.
    const ws = await t.request({ url: `/v1/workspaces/${workspace.id}`, key: existing.key });
    expect(ws.status).toBe(200);
    expect(ws.body.data.role).toBe('member');
  });

  it('inviting the same new email into two workspaces at the same moment creates one user, a member of both', async () => {
    const owner = await makeUser(t);
    const [ws1, ws2] = await Promise.all([makeWorkspace(t, owner), makeWorkspace(t, owner)]);
    const email = `${unique('popular')}@example.test`;
    const results = await Promise.all(
      [ws1, ws2].map((ws) => t.request({ method: 'POST', url: `/v1/workspaces/${ws.id}/members`, key: owner.key, body: { email, role: 'member' } })),
    );
    for (const r of results) expect(r.status, r.text).toBe(201);
    expect(results[0]!.body.data.user_id).toBe(results[1]!.body.data.user_id);
    const users = await t.database.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(users).toHaveLength(1);
  });

  it('inviting the same existing user twice at the same moment: one 201, one 409 naming email', async () => {
    const { owner, workspace } = await team();
    const guest = await makeUser(t);
    const results = await Promise.all(
      ['member', 'viewer'].map((role) => t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body: { email: guest.email, role } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.param).toBe('email');
    const rows = await t.database.db.selectFrom('memberships').select('id').where('workspace_id', '=', workspace.id).where('user_id', '=', guest.userId).execute();
    expect(rows).toHaveLength(1);
  });

  it('inviting someone who is already a member is a 409 and leaves their role alone', async () => {
    const { owner, member, workspace } = await team();
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body: { email: member.email, role: 'admin' } });
    expectError(res, 409, undefined, 'email');
    expect(await roleOf(workspace.id, member.userId)).toBe('member');
  });

  it.each(['member', 'viewer'] as const)('a %s cannot invite (403) and nobody is added', async (role) => {
    const world = await team();
    const email = `${unique('guest')}@example.test`;
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${world.workspace.id}/members`, key: world[role].key, body: { email, role: 'viewer' } });
    expectError(res, 403);
    expect((await members(world.owner.key, world.workspace.id)).length).toBe(4);
    expect(await t.database.db.selectFrom('users').select('id').where('email', '=', email).execute()).toEqual([]);
  });

  it('an admin can invite admins, members and viewers', async () => {
    const { admin, workspace } = await team();
    for (const role of ['admin', 'member', 'viewer']) {
      const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: admin.key, body: { email: `${unique(role)}@example.test`, role } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.data.role).toBe(role);
    }
  });

  it('an admin cannot grant owner (403)', async () => {
    const { admin, owner, workspace } = await team();
    const outsider = await makeUser(t);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: admin.key, body: { email: outsider.email, role: 'owner' } });
    expectError(res, 403);
    expect(await roleOf(workspace.id, outsider.userId)).toBeUndefined();
    expect((await members(owner.key, workspace.id)).length).toBe(4);
  });

  it('an owner can invite another owner', async () => {
    const { owner, workspace } = await team();
    const co = await makeUser(t);
    const m = await addMember(t, owner, workspace.id, co, 'owner');
    expect(m.role).toBe('owner');
  });

  it.each([
    [{ email: 'not-an-email', role: 'member' }, 'email'],
    [{ role: 'member' }, 'email'],
    [{ email: 'valid@example.test', role: 'superuser' }, 'role'],
  ])('an ill-formed invitation %j is a 400 naming %s', async (body, param) => {
    const { owner, workspace } = await team();
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: owner.key, body });
    expectError(res, 400, undefined, param);
  });

  it("inviting into another user's workspace answers 404", async () => {
    const { workspace } = await team();
    const stranger = await makeUser(t);
    const res = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/members`, key: stranger.key, body: { email: stranger.email, role: 'owner' } });
    expectError(res, 404, 'NOT_FOUND');
    expect(await roleOf(workspace.id, stranger.userId)).toBeUndefined();
  });
});

describe('GET /v1/members/:id', () => {
  it('returns a membership to a member of its workspace, and 404 to anyone else', async () => {
    const { viewer, workspace, memberships } = await team();
    const res = await t.request({ url: `/v1/members/${memberships.admin.id}`, key: viewer.key });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: memberships.admin.id, workspace_id: workspace.id, role: 'admin' });
    const stranger = await makeUser(t);
    expectError(await t.request({ url: `/v1/members/${memberships.admin.id}`, key: stranger.key }), 404, 'NOT_FOUND');
  });
});

describe('PATCH /v1/members/:id', () => {
  it('an owner changes a member\'s role, and the new role applies to their key at once', async () => {
    const { owner, viewer, workspace, memberships } = await team();
    const before = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: viewer.key, body: { name: unique('P ') } });
    expectError(before, 403);

    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.viewer.id}`, key: owner.key, body: { role: 'admin' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ id: memberships.viewer.id, user_id: viewer.userId, role: 'admin' });
    expect(await roleOf(workspace.id, viewer.userId)).toBe('admin');

    const after = await t.request({ method: 'POST', url: `/v1/workspaces/${workspace.id}/projects`, key: viewer.key, body: { name: unique('P ') } });
    expect(after.status, after.text).toBe(201);
  });

  it('an admin can demote a member to viewer', async () => {
    const { admin, member, workspace, memberships } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.member.id}`, key: admin.key, body: { role: 'viewer' } });
    expect(res.status, res.text).toBe(200);
    expect(await roleOf(workspace.id, member.userId)).toBe('viewer');
  });

  it.each(['owner', 'admin', 'member'] as const)('someone whose role is %s cannot change their own role (403)', async (role) => {
    const world = await team();
    const target = role === 'owner' ? 'viewer' : 'owner';
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${world.memberships[role].id}`, key: world[role].key, body: { role: target } });
    expectError(res, 403);
    expect(await roleOf(world.workspace.id, world[role].userId)).toBe(role);
  });

  it('an admin cannot promote anyone to owner (403)', async () => {
    const { admin, member, workspace, memberships } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.member.id}`, key: admin.key, body: { role: 'owner' } });
    expectError(res, 403);
    expect(await roleOf(workspace.id, member.userId)).toBe('member');
  });

  it("an admin cannot change an owner's role (403)", async () => {
    const { admin, owner, workspace, memberships } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.owner.id}`, key: admin.key, body: { role: 'viewer' } });
    expectError(res, 403);
    expect(await roleOf(workspace.id, owner.userId)).toBe('owner');
  });

  it.each(['member', 'viewer'] as const)('a %s cannot change roles (403)', async (role) => {
    const world = await team();
    const other = role === 'member' ? 'viewer' : 'member';
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${world.memberships[other].id}`, key: world[role].key, body: { role: 'admin' } });
    expectError(res, 403);
    expect(await roleOf(world.workspace.id, world[other].userId)).toBe(other);
  });

  it('an owner can demote another owner while one owner remains', async () => {
    const { owner, workspace } = await team();
    const co = await makeUser(t);
    const coM = await addMember(t, owner, workspace.id, co, 'owner');
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${coM.id}`, key: owner.key, body: { role: 'admin' } });
    expect(res.status, res.text).toBe(200);
    expect(await roleOf(workspace.id, co.userId)).toBe('admin');
    expect(await roleOf(workspace.id, owner.userId)).toBe('owner');
  });

  it('two owners demoting each other at once cannot leave the workspace without an owner', async () => {
    const { owner, workspace, memberships } = await team();
    const co = await makeUser(t);
    const coM = await addMember(t, owner, workspace.id, co, 'owner');
    const [a, b] = await Promise.all([
      t.request({ method: 'PATCH', url: `/v1/members/${coM.id}`, key: owner.key, body: { role: 'admin' } }),
      t.request({ method: 'PATCH', url: `/v1/members/${memberships.owner.id}`, key: co.key, body: { role: 'admin' } }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const loser = a.status === 200 ? b : a;
    if (loser.status === 409) expect(loser.body.error.code).toBe('LAST_OWNER');
    const owners = await t.database.db.selectFrom('memberships').select('id').where('workspace_id', '=', workspace.id).where('role', '=', 'owner').execute();
    expect(owners).toHaveLength(1);
  });

  it("another workspace's membership answers 404 and is unchanged", async () => {
    const { member, workspace, memberships } = await team();
    const stranger = await makeUser(t);
    await makeWorkspace(t, stranger);
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.member.id}`, key: stranger.key, body: { role: 'viewer' } });
    expectError(res, 404, 'NOT_FOUND');
    expect(await roleOf(workspace.id, member.userId)).toBe('member');
  });

  it('an unknown role is a 400 naming role', async () => {
    const { owner, memberships } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/members/${memberships.member.id}`, key: owner.key, body: { role: 'god' } });
    expectError(res, 400, undefined, 'role');
  });
});

describe('DELETE /v1/members/:id', () => {
  it('removes a member, answers 200 again when repeated, and the removed member loses access at once', async () => {
    const { owner, member, workspace, memberships } = await team();
    const project = await makeProject(t, owner, workspace.id);
    // The member's key is in use (and cached) before the removal.
    expect((await t.request({ url: `/v1/workspaces/${workspace.id}`, key: member.key })).status).toBe(200);
    expect((await t.request({ url: `/v1/projects/${project.id}`, key: member.key })).status).toBe(200);

    const res = await t.request({ method: 'DELETE', url: `/v1/members/${memberships.member.id}`, key: owner.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ id: memberships.member.id, deleted: true });
    const again = await t.request({ method: 'DELETE', url: `/v1/members/${memberships.member.id}`, key: owner.key });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ id: memberships.member.id, deleted: true });

    expect(await roleOf(workspace.id, member.userId)).toBeUndefined();
    expect((await members(owner.key, workspace.id)).map((m) => m.user_id)).not.toContain(member.userId);
    expectError(await t.request({ url: `/v1/workspaces/${workspace.id}`, key: member.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/v1/projects/${project.id}`, key: member.key }), 404, 'NOT_FOUND');
    const list = await t.request({ url: '/v1/workspaces', key: member.key });
    expect(list.body.data.map((w: any) => w.id)).not.toContain(workspace.id);
  });

  it('deleting an unknown membership id answers 200', async () => {
    const { owner } = await team();
    const res = await t.request({ method: 'DELETE', url: '/v1/members/mem_doesnotexist0000', key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: 'mem_doesnotexist0000', deleted: true });
  });

  it('the only owner cannot remove themselves (409 LAST_OWNER)', async () => {
    const { owner, workspace, memberships } = await team();
    const res = await t.request({ method: 'DELETE', url: `/v1/members/${memberships.owner.id}`, key: owner.key });
    expectError(res, 409, 'LAST_OWNER');
    expect(await roleOf(workspace.id, owner.userId)).toBe('owner');
  });

  it('an owner can remove another owner while one owner remains', async () => {
    const { owner, workspace } = await team();
    const co = await makeUser(t);
    const coM = await addMember(t, owner, workspace.id, co, 'owner');
    const res = await t.request({ method: 'DELETE', url: `/v1/members/${coM.id}`, key: owner.key });
    expect(res.status, res.text).toBe(200);
    expect(await roleOf(workspace.id, co.userId)).toBeUndefined();
  });

  it('two owners leaving at the same moment cannot leave the workspace without an owner', async () => {
    const { owner, workspace, memberships } = await team();
    const co = await makeUser(t);
    const coM = await addMember(t, owner, workspace.id, co, 'owner');
    const results = await Promise.all([
      t.request({ method: 'DELETE', url: `/v1/members/${memberships.owner.id}`, key: owner.key }),
      t.request({ method: 'DELETE', url: `/v1/members/${coM.id}`, key: co.key }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe('LAST_OWNER');
    const owners = await t.database.db.selectFrom('memberships').select('id').where('workspace_id', '=', workspace.id).where('role', '=', 'owner').execute();
    expect(owners).toHaveLength(1);
  });

  it('an admin cannot remove an owner (403)', async () => {
    const { admin, owner, workspace, memberships } = await team();
    const res = await t.request({ method: 'DELETE', url: `/v1/members/${memberships.owner.id}`, key: admin.key });
    expectError(res, 403);
    expect(await roleOf(workspace.id, owner.userId)).toBe('owner');
  });

  it.each(['member', 'viewer'] as const)('a %s cannot remove someone else (403)', async (role) => {
    const world = await team();
    const res = await t.request({ method: 'DELETE', url: `/v1/members/${world.memberships.admin.id}`, key: world[role].key });
    expectError(res, 403);
    expect(await roleOf(world.workspace.id, world.admin.userId)).toBe('admin');
  });

  it("deleting another workspace's membership answers 200 but removes nothing", async () => {
    const { member, workspace, memberships } = await team();
    const stranger: Actor = await makeUser(t);
    await makeWorkspace(t, stranger);
    const res = await t.request({ method: 'DELETE', url: `/v1/members/${memberships.member.id}`, key: stranger.key });
    expect(res.status).toBe(200);
    expect(await roleOf(workspace.id, member.userId)).toBe('member');
  });
});

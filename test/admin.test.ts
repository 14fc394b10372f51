import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeKey, makeUser, makeWorkspace, makeWorld, unique } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many users are minted with the bootstrap key; rate limits are covered elsewhere.
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function usersWithEmail(email: string) {
  return t.database.db.selectFrom('users').selectAll().where('email', 'ilike', email).execute();
}

function newEmail(prefix = 'person'): string {
  return `${unique(prefix)}@example.test`;
}

describe('POST /v1/admin/users', () => {
  it('an instance administrator creates a user, with a username derived from the email', async () => {
    const email = newEmail('grace.hopper');
    const res = await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email, name: 'Grace Hopper' } });
    expect(res.status, res.text).toBe(201);
    const u = res.body.data;
    expect(u.id).toMatch(/^user_/);
    expect(u).toMatchObject({ email, name: 'Grace Hopper', is_instance_admin: false });
    expect(u.username).toMatch(/^grace_hopper/);
    expect(await usersWithEmail(email)).toHaveLength(1);
  });

  it('accepts an explicit username and the instance-administrator flag', async () => {
    const username = unique('root_');
    const res = await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email: newEmail(), username, is_instance_admin: true } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ username, is_instance_admin: true });
  });

  it('a user created as instance administrator can create users in turn', async () => {
    const root = await makeUser(t, { instanceAdmin: true });
    const res = await t.request({ method: 'POST', url: '/v1/admin/users', key: root.key, body: { email: newEmail() } });
    expect(res.status, res.text).toBe(201);
  });

  it('anyone else gets 403 NOT_INSTANCE_ADMIN, even a workspace owner, and no user is created', async () => {
    const { owner } = await makeWorld(t);
    const plain = await makeUser(t);
    for (const key of [owner.key, plain.key]) {
      const email = newEmail('blocked');
      expectError(await t.request({ method: 'POST', url: '/v1/admin/users', key, body: { email } }), 403, 'NOT_INSTANCE_ADMIN');
      expect(await usersWithEmail(email)).toEqual([]);
    }
  });

  it("an instance administrator's read-only key cannot create users (403)", async () => {
    const rootReader = await makeUser(t, { instanceAdmin: true, scopes: ['read'] });
    const email = newEmail('readonly');
    expectError(await t.request({ method: 'POST', url: '/v1/admin/users', key: rootReader.key, body: { email } }), 403);
    expect(await usersWithEmail(email)).toEqual([]);
  });

  it('a duplicate email, in any letter case, is a 409 naming email', async () => {
    const existing = await makeUser(t);
    for (const email of [existing.email, existing.email.toUpperCase()]) {
      expectError(await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email } }), 409, undefined, 'email');
    }
    expect(await usersWithEmail(existing.email)).toHaveLength(1);
  });

  it('a duplicate username is a 409 naming username', async () => {
    const username = unique('dup_');
    expect((await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email: newEmail(), username } })).status).toBe(201);
    expectError(await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email: newEmail(), username: username.toUpperCase() } }), 409, undefined, 'username');
  });

  it.each([
    [{}, 'email'],
    [{ email: 'not-an-email' }, 'email'],
    [{ email: 'ok@example.test', is_instance_admin: 'yes' }, 'is_instance_admin'],
    [{ email: 'ok@example.test', role: 'god' }, 'role'],
  ])('an ill-formed user %j is a 400 naming %s', async (body, param) => {
    expectError(await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body }), 400, undefined, param);
  });
});

describe('GET /v1/admin/users', () => {
  it('lists every user of the instance, with meta, to instance administrators', async () => {
    const a = await makeUser(t);
    const total = (await t.database.db.selectFrom('users').select('id').execute()).length;
    const res = await t.request({ url: '/v1/admin/users?per_page=100', key: t.adminKey });
    expect(res.status).toBe(200);
    expect(res.body.meta).toMatchObject({ total, per_page: 100, page: 1 });
    expect(res.body.data.length).toBe(Math.min(total, 100));
    const ids = new Set<string>();
    for (let page = 1; page <= res.body.meta.total_pages; page++) {
      const p = await t.request({ url: `/v1/admin/users?per_page=100&page=${page}`, key: t.adminKey });
      for (const u of p.body.data) ids.add(u.id);
    }
    expect(ids.size).toBe(total);
    expect(ids.has(a.userId)).toBe(true);
  });

  it('order=desc lists the newest users first across pages, not a reversed first page', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await makeUser(t));
    const total = (await t.database.db.selectFrom('users').select('id').execute()).length;
    expect(total).toBeGreaterThan(3);
    const desc = await t.request({ url: '/v1/admin/users?order=desc&per_page=2', key: t.adminKey });
    expect(desc.status).toBe(200);
    expect(desc.body.data.map((u: any) => u.id)).toEqual([made[2]!.userId, made[1]!.userId]);
    const asc = await t.request({ url: '/v1/admin/users?order=asc&per_page=1', key: t.adminKey });
    expect(asc.body.data[0].is_instance_admin).toBe(true); // the bootstrap owner came first
  });

  it('an unknown sort field is a 400 naming sort', async () => {
    expectError(await t.request({ url: '/v1/admin/users?sort=password', key: t.adminKey }), 400, undefined, 'sort');
  });

  it('two users created at once with the same email: one 201, one 409 naming email', async () => {
    const email = newEmail('twin');
    const results = await Promise.all([0, 1].map(() => t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const loser = results.find((r) => r.status === 409)!;
    expect(loser.body.error.param).toBe('email');
    expect(await usersWithEmail(email)).toHaveLength(1);
  });

  it('anyone else gets 403 NOT_INSTANCE_ADMIN', async () => {
    const { owner } = await makeWorld(t);
    expectError(await t.request({ url: '/v1/admin/users', key: owner.key }), 403, 'NOT_INSTANCE_ADMIN');
  });
});

describe('POST /v1/admin/users/:id/api-keys', () => {
  it('mints a working admin key for the user, 30 days by default', async () => {
    const created = (await t.request({ method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email: newEmail('minted') } })).body.data;
    const res = await t.request({ method: 'POST', url: `/v1/admin/users/${created.id}/api-keys`, key: t.adminKey, body: { name: 'impersonation' } });
    expect(res.status, res.text).toBe(201);
    const k = res.body.data;
    expect(k.secret).toMatch(/^slk_/);
    expect(k).toMatchObject({ user_id: created.id, scopes: ['admin'], name: 'impersonation' });
    expect(Math.abs(Date.parse(k.expires_at) - (Date.now() + 30 * 86_400_000))).toBeLessThan(5 * 60_000);

    const self = await t.request({ url: '/v1/api-keys/self', key: k.secret });
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({ id: k.id, user_id: created.id, is_instance_admin: false, user: { id: created.id, email: created.email } });
    // The key acts as that user: it can create a workspace, which that user then owns.
    const ws = await t.request({ method: 'POST', url: '/v1/workspaces', key: k.secret, body: { name: unique('Minted ') } });
    expect(ws.status, ws.text).toBe(201);
    const members = await t.request({ url: `/v1/workspaces/${ws.body.data.id}/members`, key: k.secret });
    expect(members.body.data.map((m: any) => [m.user_id, m.role])).toEqual([[created.id, 'owner']]);
    // And it is not an instance administrator's key.
    expectError(await t.request({ url: '/v1/admin/users', key: k.secret }), 403, 'NOT_INSTANCE_ADMIN');
  });

  it('mints a read-only key when asked', async () => {
    const user = await makeUser(t);
    const k = await makeKey(t, user, { scopes: ['read'] });
    expectError(await t.request({ method: 'POST', url: '/v1/workspaces', key: k.key, body: { name: 'nope' } }), 403);
    expect((await t.request({ url: '/v1/workspaces', key: k.key })).status).toBe(200);
  });

  it('an unknown user id is a 404', async () => {
    expectError(await t.request({ method: 'POST', url: '/v1/admin/users/user_doesnotexist000/api-keys', key: t.adminKey, body: { name: 'x' } }), 404, 'NOT_FOUND');
  });

  it('anyone else gets 403 NOT_INSTANCE_ADMIN, and no key is minted', async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const before = await t.database.db.selectFrom('api_keys').select('id').where('user_id', '=', bob.userId).execute();
    expectError(await t.request({ method: 'POST', url: `/v1/admin/users/${bob.userId}/api-keys`, key: alice.key, body: { name: 'steal' } }), 403, 'NOT_INSTANCE_ADMIN');
    const after = await t.database.db.selectFrom('api_keys').select('id').where('user_id', '=', bob.userId).execute();
    expect(after.length).toBe(before.length);
  });

  it("a key limited to a project needs the user to be a member of the project's workspace (422 naming project_id otherwise)", async () => {
    const root = await makeUser(t, { instanceAdmin: true });
    const ws = await makeWorkspace(t, root);
    const project = (await t.request({ method: 'POST', url: `/v1/workspaces/${ws.id}/projects`, key: root.key, body: { name: 'Scoped' } })).body.data;
    const user = await makeUser(t);
    expectError(
      await t.request({ method: 'POST', url: `/v1/admin/users/${user.userId}/api-keys`, key: root.key, body: { name: 'pk', project_id: project.id } }),
      422,
      undefined,
      'project_id',
    );
    await addMember(t, root, ws.id, user, 'member');
    const ok = await t.request({ method: 'POST', url: `/v1/admin/users/${user.userId}/api-keys`, key: root.key, body: { name: 'pk', project_id: project.id } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.data).toMatchObject({ user_id: user.userId, project_id: project.id, workspace_id: ws.id });
    expect((await t.request({ url: `/v1/projects/${project.id}`, key: ok.body.data.secret })).status).toBe(200);
  });

  it('expiry rules apply to minted keys too', async () => {
    const user = await makeUser(t);
    expectError(await t.request({ method: 'POST', url: `/v1/admin/users/${user.userId}/api-keys`, key: t.adminKey, body: { name: 'x', expires_in_days: 366 } }), 400, undefined, 'expires_in_days');
    expectError(
      await t.request({ method: 'POST', url: `/v1/admin/users/${user.userId}/api-keys`, key: t.adminKey, body: { name: 'x', expires_at: new Date(Date.now() + 400 * 86_400_000).toISOString() } }),
      422,
      undefined,
      'expires_at',
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type Response, type TestApp } from './app.ts';
import { makeKey, makeProject, makeTask, makeUser, makeWorkspace, makeWorld, unique } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many users are minted with the bootstrap key; rate limits are covered elsewhere.
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

const DAY_MS = 24 * 60 * 60 * 1000;
const SLACK_MS = 5 * 60 * 1000;

function expectNear(iso: string, expectedMs: number): void {
  expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  expect(Math.abs(Date.parse(iso) - expectedMs)).toBeLessThan(SLACK_MS);
}

async function createKey(key: string, body: Record<string, unknown>): Promise<Response> {
  return t.request({ method: 'POST', url: '/v1/api-keys', key, body });
}

async function keyRows(userId: string) {
  return t.database.db.selectFrom('api_keys').selectAll().where('user_id', '=', userId).execute();
}

describe('POST /v1/api-keys', () => {
  it('creates a key for the caller: secret shown once with the slk_ prefix, admin scope, 30 days by default', async () => {
    const alice = await makeUser(t);
    const res = await createKey(alice.key, { name: 'CI pipeline' });
    expect(res.status, res.text).toBe(201);
    const k = res.body.data;
    expect(k.id).toMatch(/^key_/);
    expect(k.secret).toMatch(/^slk_[0-9A-Za-z]{42}$/);
    expect(k).toMatchObject({ name: 'CI pipeline', scopes: ['admin'], user_id: alice.userId, project_id: null, workspace_id: null, revoked_at: null });
    expect(k.secret.startsWith(k.prefix)).toBe(true);
    expect(k.prefix.length).toBeLessThan(k.secret.length);
    expectNear(k.expires_at, Date.now() + 30 * DAY_MS);

    // The new key works, and describes itself without its secret.
    const self = await t.request({ url: '/v1/api-keys/self', key: k.secret });
    expect(self.status).toBe(200);
    expect(self.body.data.id).toBe(k.id);
    expect(self.text).not.toContain(k.secret);
  });

  it('the secret never appears again in GET /v1/api-keys or /self', async () => {
    const alice = await makeUser(t);
    const k = (await createKey(alice.key, { name: 'hidden' })).body.data;
    const list = await t.request({ url: '/v1/api-keys', key: alice.key });
    expect(list.status).toBe(200);
    const listed = list.body.data.find((x: any) => x.id === k.id);
    expect(listed).toMatchObject({ id: k.id, name: 'hidden', prefix: k.prefix });
    expect(listed).not.toHaveProperty('secret');
    expect(list.text).not.toContain(k.secret);
    for (const key of [alice.key, k.secret]) {
      const self = await t.request({ url: '/v1/api-keys/self', key });
      expect(self.text).not.toContain(k.secret);
      expect(self.body.data).not.toHaveProperty('secret');
    }
  });

  it('expires_in_days sets the expiry, up to 365 days', async () => {
    const alice = await makeUser(t);
    const short = await createKey(alice.key, { name: 'short', expires_in_days: 1 });
    expect(short.status, short.text).toBe(201);
    expectNear(short.body.data.expires_at, Date.now() + DAY_MS);
    const year = await createKey(alice.key, { name: 'year', expires_in_days: 365 });
    expect(year.status, year.text).toBe(201);
    expectNear(year.body.data.expires_at, Date.now() + 365 * DAY_MS);
  });

  it.each([366, 0, -1, 1.5])('expires_in_days %j is a 400 naming expires_in_days, and creates no key', async (days) => {
    const alice = await makeUser(t);
    const before = (await keyRows(alice.userId)).length;
    expectError(await createKey(alice.key, { name: 'bad', expires_in_days: days }), 400, undefined, 'expires_in_days');
    expect((await keyRows(alice.userId)).length).toBe(before);
  });

  it('an explicit expires_at within 365 days is kept', async () => {
    const alice = await makeUser(t);
    const at = new Date(Date.now() + 100 * DAY_MS);
    at.setUTCMilliseconds(0);
    const res = await createKey(alice.key, { name: 'dated', expires_at: at.toISOString() });
    expect(res.status, res.text).toBe(201);
    expect(Date.parse(res.body.data.expires_at)).toBe(at.getTime());
  });

  it.each([
    ['beyond 365 days', () => new Date(Date.now() + 366 * DAY_MS).toISOString()],
    ['in the past', () => new Date(Date.now() - DAY_MS).toISOString()],
  ])('an expires_at %s is a 422 naming expires_at, and creates no key', async (_label, at) => {
    const alice = await makeUser(t);
    const before = (await keyRows(alice.userId)).length;
    expectError(await createKey(alice.key, { name: 'bad', expires_at: at() }), 422, undefined, 'expires_at');
    expect((await keyRows(alice.userId)).length).toBe(before);
  });

  it('a read-scoped key can read but every write is a 403, including creating any key', async () => {
    const alice = await makeUser(t);
    const ws = await makeWorkspace(t, alice);
    const reader = (await createKey(alice.key, { name: 'reader', scopes: ['read'] })).body.data;
    expect(reader.scopes).toEqual(['read']);
    expect((await t.request({ url: `/v1/workspaces/${ws.id}`, key: reader.secret })).status).toBe(200);
    expectError(await t.request({ method: 'POST', url: `/v1/workspaces/${ws.id}/projects`, key: reader.secret, body: { name: 'nope' } }), 403);

    const before = (await keyRows(alice.userId)).length;
    expectError(await createKey(reader.secret, { name: 'escalate', scopes: ['admin'] }), 403);
    expectError(await createKey(reader.secret, { name: 'default scopes' }), 403);
    expectError(await createKey(reader.secret, { name: 'another reader', scopes: ['read'] }), 403);
    expect((await keyRows(alice.userId)).length).toBe(before);
  });

  it('an unknown scope is a 400 naming scopes', async () => {
    const alice = await makeUser(t);
    expectError(await createKey(alice.key, { name: 'x', scopes: ['superuser'] }), 400, undefined, 'scopes[0]');
    expectError(await createKey(alice.key, { name: 'x', scopes: [] }), 400, undefined, 'scopes');
  });

  it('an expires_at without an offset, or given together with expires_in_days, is a 400', async () => {
    const alice = await makeUser(t);
    const local = new Date(Date.now() + 10 * DAY_MS).toISOString().slice(0, 19);
    expectError(await createKey(alice.key, { name: 'x', expires_at: local }), 400, undefined, 'expires_at');
    expectError(await createKey(alice.key, { name: 'x', expires_at: new Date(Date.now() + 10 * DAY_MS).toISOString(), expires_in_days: 10 }), 400);
  });

  it('a missing name is a 400 naming name', async () => {
    const alice = await makeUser(t);
    expectError(await createKey(alice.key, {}), 400, undefined, 'name');
  });

  it("limiting a key to a project the caller cannot see is a 422 naming project_id", async () => {
    const alice = await makeUser(t);
    const other = await makeWorld(t);
    expectError(await createKey(alice.key, { name: 'x', project_id: other.project.id }), 422, undefined, 'project_id');
    expectError(await createKey(alice.key, { name: 'x', project_id: 'proj_doesnotexist000' }), 422, undefined, 'project_id');
  });

  it('creating a key under an Idempotency-Key never stores its secret', async () => {
    const alice = await makeUser(t);
    const res = await t.request({ method: 'POST', url: '/v1/api-keys', key: alice.key, body: { name: 'idem' }, headers: { 'idempotency-key': unique('idem-') } });
    expect(res.status, res.text).toBe(201);
    const rows = await t.database.db.selectFrom('idempotency_keys').selectAll().where('credential_id', '=', alice.keyId).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(res.body.data.secret);
  });
});

describe('project-limited keys', () => {
  it('a key limited to a project sees only that project and its tasks', async () => {
    const alice = await makeUser(t);
    const ws = await makeWorkspace(t, alice);
    const otherWs = await makeWorkspace(t, alice);
    const mine = await makeProject(t, alice, ws.id);
    const sibling = await makeProject(t, alice, ws.id);
    const elsewhere = await makeProject(t, alice, otherWs.id);
    const myTask = await makeTask(t, alice, mine.id);
    const siblingTask = await makeTask(t, alice, sibling.id);
    const elsewhereTask = await makeTask(t, alice, elsewhere.id);

    const res = await createKey(alice.key, { name: 'project key', project_id: mine.id });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ project_id: mine.id, workspace_id: ws.id });
    const pk = res.body.data.secret;

    expect((await t.request({ url: `/v1/projects/${mine.id}`, key: pk })).status).toBe(200);
    expect((await t.request({ url: `/v1/tasks/${myTask.id}`, key: pk })).status).toBe(200);
    expect((await makeTask(t, { userId: alice.userId, keyId: res.body.data.id, key: pk, email: alice.email }, mine.id)).project_id).toBe(mine.id);

    for (const url of [`/v1/projects/${sibling.id}`, `/v1/projects/${elsewhere.id}`, `/v1/tasks/${siblingTask.id}`, `/v1/tasks/${elsewhereTask.id}`, `/v1/projects/${sibling.id}/tasks`, `/v1/workspaces/${otherWs.id}`]) {
      expectError(await t.request({ url, key: pk }), 404, 'NOT_FOUND');
    }
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${sibling.id}/tasks`, key: pk, body: { title: 'x' } }), 404, 'NOT_FOUND');
    expectError(await t.request({ method: 'PATCH', url: `/v1/tasks/${siblingTask.id}`, key: pk, body: { title: 'x' } }), 404, 'NOT_FOUND');
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${siblingTask.id}`, key: pk })).status).toBe(200);
    expect((await t.request({ url: `/v1/tasks/${siblingTask.id}`, key: alice.key })).status).toBe(200);

    const projects = await t.request({ url: `/v1/workspaces/${ws.id}/projects`, key: pk });
    expect(projects.status).toBe(200);
    expect(projects.body.data.map((p: any) => p.id)).toEqual([mine.id]);
    const tasks = await t.request({ url: '/v1/tasks', key: pk });
    expect(tasks.status).toBe(200);
    expect(tasks.body.data.every((x: any) => x.project_id === mine.id)).toBe(true);
    expect(tasks.body.data.map((x: any) => x.id)).toContain(myTask.id);
    const sibTasks = await t.request({ url: `/v1/tasks?project=${sibling.id}`, key: pk });
    expect(sibTasks.body.data).toEqual([]);
    const workspaces = await t.request({ url: '/v1/workspaces', key: pk });
    expect(workspaces.body.data.map((w: any) => w.id)).toEqual([ws.id]);
  });

  it('deleting the project ends its project keys at once: the key then gets 401', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const pk = (await createKey(owner.key, { name: 'pk', project_id: project.id })).body.data.secret;
    expect((await t.request({ url: `/v1/workspaces/${workspace.id}`, key: pk })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: owner.key })).status).toBe(200);
    expectError(await t.request({ url: `/v1/workspaces/${workspace.id}`, key: pk }), 401);
  });

  it('GET /v1/api-keys/self with a key whose project was just deleted answers 401, never 500', async () => {
    const { owner, project } = await makeWorld(t);
    const pk = (await createKey(owner.key, { name: 'pk', project_id: project.id })).body.data.secret;
    expect((await t.request({ url: '/v1/api-keys/self', key: pk })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: owner.key })).status).toBe(200);
    expectError(await t.request({ url: '/v1/api-keys/self', key: pk }), 401);
  });

  it('a project key cannot mint a key for another project', async () => {
    const alice = await makeUser(t);
    const ws = await makeWorkspace(t, alice);
    const mine = await makeProject(t, alice, ws.id);
    const sibling = await makeProject(t, alice, ws.id);
    const pk = (await createKey(alice.key, { name: 'pk', project_id: mine.id })).body.data.secret;
    const res = await createKey(pk, { name: 'escape', project_id: sibling.id });
    expect([404, 422]).toContain(res.status);
    const unscoped = await createKey(pk, { name: 'child' });
    // A key minted by a project key is limited to the same project.
    if (unscoped.status === 201) expect(unscoped.body.data.project_id).toBe(mine.id);
    else expect(unscoped.status).toBe(403);
  });
});

describe('GET /v1/api-keys and /v1/api-keys/self', () => {
  it('self describes the calling key and its user', async () => {
    const alice = await makeUser(t);
    const extra = await makeKey(t, alice, { name: 'described', scopes: ['read'] });
    const res = await t.request({ url: '/v1/api-keys/self', key: extra.key });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: extra.id,
      name: 'described',
      scopes: ['read'],
      user_id: alice.userId,
      user: { id: alice.userId, email: alice.email },
      is_instance_admin: false,
      revoked_at: null,
    });
    const root = await t.request({ url: '/v1/api-keys/self', key: t.adminKey });
    expect(root.body.data.is_instance_admin).toBe(true);
    expect(root.body.data.user_id).not.toBe(alice.userId);
  });

  it("lists only the caller's own keys, with meta", async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const a2 = await makeKey(t, alice);
    const res = await t.request({ url: '/v1/api-keys', key: alice.key });
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: any) => k.id).sort()).toEqual([alice.keyId, a2.id].sort());
    expect(res.body.data.map((k: any) => k.id)).not.toContain(bob.keyId);
    expect(res.body.meta).toMatchObject({ total: 2, count: 2, page: 1 });
  });

  it('order=asc lists the oldest keys first across pages, not a reversed first page', async () => {
    const alice = await makeUser(t);
    const k2 = await makeKey(t, alice, { name: 'second' });
    const k3 = await makeKey(t, alice, { name: 'third' });
    const asc = await t.request({ url: '/v1/api-keys?order=asc&per_page=2', key: alice.key });
    expect(asc.status).toBe(200);
    expect(asc.body.data.map((k: any) => k.id)).toEqual([alice.keyId, k2.id]);
    const desc = await t.request({ url: '/v1/api-keys?per_page=2', key: alice.key });
    expect(desc.body.data.map((k: any) => k.id)).toEqual([k3.id, k2.id]);
  });
});

describe('DELETE /v1/api-keys/:id', () => {
  it('revokes the key (idempotently), and the revoked key then gets the same 401 as an unknown key', async () => {
    const alice = await makeUser(t);
    const victim = await makeKey(t, alice);
    expect((await t.request({ url: '/v1/api-keys/self', key: victim.key })).status).toBe(200);

    const res = await t.request({ method: 'DELETE', url: `/v1/api-keys/${victim.id}`, key: alice.key });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ id: victim.id, deleted: true });
    const again = await t.request({ method: 'DELETE', url: `/v1/api-keys/${victim.id}`, key: alice.key });
    expect(again.status).toBe(200);
    expect(again.body.data).toEqual({ id: victim.id, deleted: true });

    const revoked = await t.request({ url: '/v1/api-keys/self', key: victim.key });
    expectError(revoked, 401);
    const unknown = await t.request({ url: '/v1/api-keys/self', key: 'slk_' + 'A'.repeat(42) });
    expect(unknown.status).toBe(401);
    expect(revoked.body).toEqual(unknown.body);

    const listed = (await t.request({ url: '/v1/api-keys', key: alice.key })).body.data.find((k: any) => k.id === victim.id);
    expect(listed.revoked_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The caller's own key is untouched.
    expect((await t.request({ url: '/v1/api-keys/self', key: alice.key })).status).toBe(200);
  });

  it("revoking another user's key id answers 200 but leaves that key working", async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const res = await t.request({ method: 'DELETE', url: `/v1/api-keys/${bob.keyId}`, key: alice.key });
    expect(res.status).toBe(200);
    expect((await t.request({ url: '/v1/api-keys/self', key: bob.key })).status).toBe(200);
    const row = await t.database.db.selectFrom('api_keys').select('revoked_at').where('id', '=', bob.keyId).executeTakeFirstOrThrow();
    expect(row.revoked_at).toBeNull();
  });

  it('a read key cannot revoke keys (403)', async () => {
    const alice = await makeUser(t, { scopes: ['read'] });
    expectError(await t.request({ method: 'DELETE', url: `/v1/api-keys/${alice.keyId}`, key: alice.key }), 403);
    expect((await t.request({ url: '/v1/api-keys/self', key: alice.key })).status).toBe(200);
  });
});

describe('key storage', () => {
  it('keys are stored only as a hash: no column holds the secret, and it is never logged', async () => {
    const alice = await makeUser(t);
    const res = await createKey(alice.key, { name: 'stored' });
    const secret: string = res.body.data.secret;
    const row = await t.database.db.selectFrom('api_keys').selectAll().where('id', '=', res.body.data.id).executeTakeFirstOrThrow();
    expect(row.secret_hash).not.toBe(secret);
    expect(row.secret_hash).not.toContain(secret.slice(4));
    for (const value of Object.values(row)) expect(String(value)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain(secret);
    // Using the key does not log it either.
    expect((await t.request({ url: '/v1/api-keys/self', key: secret })).status).toBe(200);
    expect(t.logs.join('\n')).not.toContain(secret);
  });
});

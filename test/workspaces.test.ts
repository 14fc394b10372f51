import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeUser, makeWorkspace, unique, type Actor } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many users are minted with the bootstrap key; rate limits are covered elsewhere.
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

async function getWorkspace(key: string, id: string): Promise<any> {
  const res = await t.request({ url: `/v1/workspaces/${id}`, key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

/** An owner with a workspace, plus an admin, a member and a viewer in it. */
async function team() {
  const [owner, admin, member, viewer] = await Promise.all([makeUser(t), makeUser(t), makeUser(t), makeUser(t)]);
  const workspace = await makeWorkspace(t, owner);
  await addMember(t, owner, workspace.id, admin, 'admin');
  await addMember(t, owner, workspace.id, member, 'member');
  await addMember(t, owner, workspace.id, viewer, 'viewer');
  return { owner, admin, member, viewer, workspace };
}

describe('GET /v1/workspaces', () => {
  it('lists only the workspaces the caller belongs to, each with the caller\'s role', async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const own = await makeWorkspace(t, alice);
    const bobs = await makeWorkspace(t, bob);
    const bobsPrivate = await makeWorkspace(t, bob);
    await addMember(t, bob, bobs.id, alice, 'viewer');

    const res = await t.request({ url: '/v1/workspaces', key: alice.key });
    expect(res.status).toBe(200);
    const byId = new Map<string, any>(res.body.data.map((w: any) => [w.id, w]));
    expect([...byId.keys()].sort()).toEqual([own.id, bobs.id].sort());
    expect(byId.get(own.id).role).toBe('owner');
    expect(byId.get(bobs.id).role).toBe('viewer');
    expect(byId.has(bobsPrivate.id)).toBe(false);
    expect(res.body.meta).toMatchObject({ page: 1, per_page: 25, total: 2, count: 2, current_page: 1, total_pages: 1 });
  });

  it('a user in no workspace gets an empty list with total 0', async () => {
    const loner = await makeUser(t);
    const res = await t.request({ url: '/v1/workspaces', key: loner.key });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
    expect(res.body.meta.total).toBe(0);
  });
});

describe('GET /v1/workspaces/:id', () => {
  it('returns the workspace with its fields and the caller\'s role', async () => {
    const { viewer, workspace } = await team();
    const w = await getWorkspace(viewer.key, workspace.id);
    expect(w).toMatchObject({ id: workspace.id, slug: workspace.slug, name: workspace.name, plan: 'free', time_zone: 'UTC', role: 'viewer' });
    expect(Object.keys(w).sort()).toEqual(['allow_overlapping_time_entries', 'created_at', 'id', 'max_timer_minutes', 'name', 'plan', 'role', 'slug', 'time_zone', 'updated_at']);
  });

  it("another user's workspace answers 404 exactly like a workspace that does not exist", async () => {
    const [alice, stranger] = await Promise.all([makeUser(t), makeUser(t)]);
    const ws = await makeWorkspace(t, alice);
    const hidden = await t.request({ url: `/v1/workspaces/${ws.id}`, key: stranger.key });
    const missing = await t.request({ url: '/v1/workspaces/ws_doesnotexist000', key: stranger.key });
    expectError(hidden, 404, 'NOT_FOUND');
    expect(hidden.body).toEqual(missing.body);
  });
});

describe('POST /v1/workspaces', () => {
  it('creates a workspace whose owner is the caller, with plan free and time zone UTC by default', async () => {
    const alice = await makeUser(t);
    const name = unique('Rocket Team ');
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { name } });
    expect(res.status, res.text).toBe(201);
    const w = res.body.data;
    expect(w.id).toMatch(/^ws_/);
    expect(w).toMatchObject({ name, role: 'owner', plan: 'free', time_zone: 'UTC' });

    const members = await t.request({ url: `/v1/workspaces/${w.id}/members`, key: alice.key });
    expect(members.status).toBe(200);
    expect(members.body.data).toHaveLength(1);
    expect(members.body.data[0]).toMatchObject({ user_id: alice.userId, role: 'owner' });
    expect((await getWorkspace(alice.key, w.id)).role).toBe('owner');
  });

  it('accepts an explicit slug and time zone', async () => {
    const alice = await makeUser(t);
    const slug = unique('explicit-');
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { name: 'Explicit', slug, time_zone: 'Europe/Berlin' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ slug, time_zone: 'Europe/Berlin' });
  });

  it('derives the slug from the name, and de-duplicates a derived slug that is taken', async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const tag = unique('');
    const name = `Ünïcode & Friends ${tag}`;
    const first = await makeWorkspace(t, alice, { name });
    expect(first.slug).toBe(`unicode-friends-${tag}`);
    // Slugs are unique across the instance, so another user's workspace of the same name differs too.
    const second = await makeWorkspace(t, bob, { name });
    expect(second.slug).toBe(`unicode-friends-${tag}-2`);
    const third = await makeWorkspace(t, alice, { name: name.toUpperCase() });
    expect(third.slug).toBe(`unicode-friends-${tag}-3`);
  });

  it('workspaces created at the same moment with the same name each get their own derived slug', async () => {
    const alice = await makeUser(t);
    const tag = unique('');
    const name = `Same Time ${tag}`;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { name } })),
    );
    for (const r of results) expect(r.status, r.text).toBe(201);
    const slugs = results.map((r) => r.body.data.slug).sort();
    expect(slugs).toEqual([`same-time-${tag}`, `same-time-${tag}-2`, `same-time-${tag}-3`, `same-time-${tag}-4`]);
  });

  it('an explicit slug that is already taken is a 409 naming slug, and creates nothing', async () => {
    const [alice, bob] = await Promise.all([makeUser(t), makeUser(t)]);
    const taken = await makeWorkspace(t, alice);
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: bob.key, body: { name: 'Copycat', slug: taken.slug } });
    expectError(res, 409, undefined, 'slug');
    const list = await t.request({ url: '/v1/workspaces', key: bob.key });
    expect(list.body.data).toEqual([]);
  });

  it.each(['Has Spaces', 'UPPER', '-leading-dash', 'trailing-dash-', 'under_score', 'a'.repeat(64), ''])('an invalid slug %j is a 400 naming slug', async (slug) => {
    const alice = await makeUser(t);
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { name: 'Bad slug', slug } });
    expectError(res, 400, undefined, 'slug');
  });

  it('a missing name is a 400 naming name', async () => {
    const alice = await makeUser(t);
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { slug: unique('noname-') } });
    expectError(res, 400, undefined, 'name');
  });

  it('an unknown IANA time zone on create is a 422 naming time_zone, and creates nothing', async () => {
    const alice = await makeUser(t);
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: alice.key, body: { name: 'Mars base', time_zone: 'Mars/Olympus_Mons' } });
    expectError(res, 422, undefined, 'time_zone');
    const list = await t.request({ url: '/v1/workspaces', key: alice.key });
    expect(list.body.data).toEqual([]);
  });

  it('a read-only key cannot create a workspace (403)', async () => {
    const reader = await makeUser(t, { scopes: ['read'] });
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: reader.key, body: { name: 'Nope' } });
    expectError(res, 403);
  });
});

describe('PUT and PATCH /v1/workspaces/:id', () => {
  it.each(['PUT', 'PATCH'])('%s changes only the fields sent', async (method) => {
    const { owner, workspace } = await team();
    const renamed = unique('Renamed ');
    const res = await t.request({ method, url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { name: renamed } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ id: workspace.id, name: renamed, slug: workspace.slug, time_zone: 'UTC', plan: 'free', role: 'owner' });

    const tz = await t.request({ method, url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { time_zone: 'America/New_York' } });
    expect(tz.status, tz.text).toBe(200);
    const after = await getWorkspace(owner.key, workspace.id);
    expect(after).toMatchObject({ name: renamed, slug: workspace.slug, time_zone: 'America/New_York' });
  });

  it('an admin can update the workspace, including its slug', async () => {
    const { owner, admin, workspace } = await team();
    const slug = unique('new-slug-');
    const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: admin.key, body: { slug } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ slug, role: 'admin' });
    expect((await getWorkspace(owner.key, workspace.id)).slug).toBe(slug);
  });

  it.each(['member', 'viewer'] as const)('a %s cannot update the workspace (403) and nothing changes', async (role) => {
    const world = await team();
    const actor: Actor = world[role];
    for (const method of ['PUT', 'PATCH']) {
      const res = await t.request({ method, url: `/v1/workspaces/${world.workspace.id}`, key: actor.key, body: { name: 'Hijacked' } });
      expectError(res, 403);
    }
    expect((await getWorkspace(world.owner.key, world.workspace.id)).name).toBe(world.workspace.name);
  });

  it('changing the slug to one another workspace has is a 409 naming slug', async () => {
    const { owner, workspace } = await team();
    const other = await makeWorkspace(t, owner);
    const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { slug: other.slug } });
    expectError(res, 409, undefined, 'slug');
    expect((await getWorkspace(owner.key, workspace.id)).slug).toBe(workspace.slug);
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Berlinn', 'Not a zone'])('an unknown IANA time zone %j is a 422 naming time_zone and changes nothing', async (timeZone) => {
    const { owner, workspace } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { name: 'Changed', time_zone: timeZone } });
    expectError(res, 422, undefined, 'time_zone');
    const after = await getWorkspace(owner.key, workspace.id);
    expect(after).toMatchObject({ name: workspace.name, time_zone: 'UTC' });
  });

  it('the owner cannot change the plan unless an instance administrator (403), and nothing changes', async () => {
    const { owner, workspace } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { plan: 'enterprise', name: 'Sneaky' } });
    expectError(res, 403);
    const after = await getWorkspace(owner.key, workspace.id);
    expect(after).toMatchObject({ plan: 'free', name: workspace.name });
  });

  it('an instance administrator who administers the workspace can change its plan', async () => {
    const root = await makeUser(t, { instanceAdmin: true });
    const ws = await makeWorkspace(t, root);
    for (const [method, plan] of [['PATCH', 'pro'], ['PUT', 'enterprise']] as const) {
      const res = await t.request({ method, url: `/v1/workspaces/${ws.id}`, key: root.key, body: { plan } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.plan).toBe(plan);
    }
    expect((await getWorkspace(root.key, ws.id)).plan).toBe('enterprise');
  });

  it("updating another user's workspace answers 404 and changes nothing", async () => {
    const [alice, stranger] = await Promise.all([makeUser(t), makeUser(t)]);
    const ws = await makeWorkspace(t, alice);
    for (const method of ['PUT', 'PATCH']) {
      const res = await t.request({ method, url: `/v1/workspaces/${ws.id}`, key: stranger.key, body: { name: 'Mine now' } });
      expectError(res, 404, 'NOT_FOUND');
    }
    expect((await getWorkspace(alice.key, ws.id)).name).toBe(ws.name);
  });

  it('an unknown field in an update is a 400 naming it', async () => {
    const { owner, workspace } = await team();
    const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { colour: 'red' } });
    expectError(res, 400, undefined, 'colour');
  });
});

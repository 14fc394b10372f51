// Idempotency-Key: the same key and body replays the first response without doing the work again;
// another body is a 422; keys are scoped to the credential and the route; secrets are never replayed.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movableClock } from './clock.ts';
import { createTestApp, type TestApp } from './app.ts';
import { makeKey, makeProject, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

const HOUR_MS = 60 * 60 * 1000;


const clock = movableClock();
let t: TestApp;
let owner: Actor;
let workspace: any;

beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  ({ owner, workspace } = await makeWorld(t));
});
afterAll(async () => {
  await t?.close();
});

const newKey = () => `idem-${randomBytes(8).toString('hex')}`;

async function taskTotal(projectId: string, key = owner.key): Promise<number> {
  const res = await t.request({ url: `/v1/projects/${projectId}/tasks?per_page=1`, key });
  expect(res.status).toBe(200);
  return res.body.meta.total;
}

function createTask(projectId: string, idempotencyKey: string, body: Record<string, unknown>, key = owner.key) {
  return t.request({ method: 'POST', url: `/v1/projects/${projectId}/tasks`, key, body, headers: { 'idempotency-key': idempotencyKey } });
}

describe('replay', () => {
  it('the same Idempotency-Key and body replays the first response and creates nothing new', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    const first = await createTask(project.id, k, { title: 'Pay the invoice', labels: ['money'] });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await createTask(project.id, k, { title: 'Pay the invoice', labels: ['money'] });
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    const third = await createTask(project.id, k, { title: 'Pay the invoice', labels: ['money'] });
    expect(third.body.data.id).toBe(first.body.data.id);
    expect(await taskTotal(project.id)).toBe(1);
  });

  it('a replay returns the original response even after the resource changed, and does not redo the work', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const task = await makeTask(t, owner, project.id, { title: 'before' });
    const k = newKey();
    const patch = () => t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'first patch' }, headers: { 'idempotency-key': k } });
    const first = await patch();
    expect(first.status).toBe(200);
    expect(first.body.data.title).toBe('first patch');
    const other = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'someone else' } });
    expect(other.status).toBe(200);
    const replay = await patch();
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.data.title).toBe('first patch');
    const now = await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key });
    expect(now.body.data.title).toBe('someone else');
  });

  it('the same key with a different body is a 422 and creates nothing', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    expect((await createTask(project.id, k, { title: 'original' })).status).toBe(201);
    const res = await createTask(project.id, k, { title: 'something else' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toMatch(/^[A-Z_]+$/);
    expect(res.body.error.param).toBe('Idempotency-Key');
    expect(await taskTotal(project.id)).toBe(1);
  });

  it('an Idempotency-Key is scoped to the credential: another key with the same value does the work', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const second = await makeKey(t, owner);
    const k = newKey();
    const a = await createTask(project.id, k, { title: 'same body' });
    const b = await createTask(project.id, k, { title: 'same body' }, second.key);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.data.id).not.toBe(a.body.data.id);
    expect(await taskTotal(project.id)).toBe(2);
  });

  it('an Idempotency-Key is scoped to the route: the same value on another URL does the work', async () => {
    const p1 = await makeProject(t, owner, workspace.id);
    const p2 = await makeProject(t, owner, workspace.id);
    const k = newKey();
    expect((await createTask(p1.id, k, { title: 'same body' })).status).toBe(201);
    const other = await createTask(p2.id, k, { title: 'same body' });
    expect(other.status).toBe(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.body.data.project_id).toBe(p2.id);
    const project = await t.request({
      method: 'POST',
      url: `/v1/workspaces/${workspace.id}/projects`,
      key: owner.key,
      body: { name: `Idempotent ${k}` },
      headers: { 'idempotency-key': k },
    });
    expect(project.status).toBe(201);
    expect(project.headers['idempotent-replayed']).toBeUndefined();
    expect(await taskTotal(p1.id)).toBe(1);
    expect(await taskTotal(p2.id)).toBe(1);
  });

  it('another user with the same Idempotency-Key never sees the first user\'s response', async () => {
    const stranger = await makeUser(t);
    const theirs = await makeWorld(t);
    const mine = await makeProject(t, owner, workspace.id);
    const k = newKey();
    expect((await createTask(mine.id, k, { title: 'private' })).status).toBe(201);
    const res = await createTask(theirs.project.id, k, { title: 'private' }, theirs.owner.key);
    expect(res.status).toBe(201);
    expect(res.body.data.project_id).toBe(theirs.project.id);
    const probe = await createTask(mine.id, k, { title: 'private' }, stranger.key);
    expect(probe.status).toBe(404);
  });

  it('a key expires after 24 hours: the same key then does the work again', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    const first = await createTask(project.id, k, { title: 'daily' });
    clock.advance(25 * HOUR_MS);
    try {
      const later = await createTask(project.id, k, { title: 'daily' });
      expect(later.status).toBe(201);
      expect(later.headers['idempotent-replayed']).toBeUndefined();
      expect(later.body.data.id).not.toBe(first.body.data.id);
    } finally {
      clock.reset();
    }
    expect(await taskTotal(project.id)).toBe(2);
  });

  it('within 24 hours the key still replays', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    const first = await createTask(project.id, k, { title: 'almost a day' });
    clock.advance(23 * HOUR_MS);
    try {
      const later = await createTask(project.id, k, { title: 'almost a day' });
      expect(later.headers['idempotent-replayed']).toBe('true');
      expect(later.body.data.id).toBe(first.body.data.id);
    } finally {
      clock.reset();
    }
    expect(await taskTotal(project.id)).toBe(1);
  });

  it('a form-encoded retry with the same fields is recognised as the same request', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    const send = () =>
      t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: owner.key, form: true, body: 'title=Form+task&labels[]=x', headers: { 'idempotency-key': k } });
    const first = await send();
    expect(first.status).toBe(201);
    const second = await send();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await taskTotal(project.id)).toBe(1);
  });
});

describe('secrets are never replayed', () => {
  it('replaying an API-key creation answers 409 and creates no second key', async () => {
    const user = await makeUser(t);
    const count = async () => (await t.request({ url: '/v1/api-keys', key: user.key })).body.meta.total;
    const before = await count();
    const k = newKey();
    const send = () => t.request({ method: 'POST', url: '/v1/api-keys', key: user.key, body: { name: 'ci' }, headers: { 'idempotency-key': k } });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body.data.secret).toMatch(/^slk_/);
    const second = await send();
    expect(second.status).toBe(409);
    expect(second.text).not.toContain(first.body.data.secret);
    expect(second.body.error.param).toBe('Idempotency-Key');
    expect(await count()).toBe(before + 1);
  });

  it('replaying an admin key mint answers 409 and creates no second key', async () => {
    const user = await makeUser(t);
    const count = async () => (await t.request({ url: '/v1/api-keys', key: user.key })).body.meta.total;
    const before = await count();
    const k = newKey();
    const send = () => t.request({ method: 'POST', url: `/v1/admin/users/${user.userId}/api-keys`, key: t.adminKey, body: { name: 'minted' }, headers: { 'idempotency-key': k } });
    expect((await send()).status).toBe(201);
    const again = await send();
    expect(again.status).toBe(409);
    expect(again.text).not.toMatch(/slk_/);
    expect(await count()).toBe(before + 1);
  });

  it('no stored idempotency record holds the secret', async () => {
    const user = await makeUser(t);
    const res = await t.request({ method: 'POST', url: '/v1/api-keys', key: user.key, body: { name: 'stored?' }, headers: { 'idempotency-key': newKey() } });
    expect(res.status).toBe(201);
    const rows = await t.database.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(res.body.data.secret);
  });
});

describe('invalid keys', () => {
  it('an Idempotency-Key that is not 1 to 255 visible ASCII characters is a 400 and nothing is created', async () => {
    const project = await makeProject(t, owner, workspace.id);
    for (const bad of ['has space', 'x'.repeat(256), 'tab\there', 'ключ']) {
      const res = await createTask(project.id, bad, { title: 'never' });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.param, JSON.stringify(bad)).toBe('Idempotency-Key');
    }
    expect(await taskTotal(project.id)).toBe(0);
  });

  it('a 255-character key is accepted', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const res = await createTask(project.id, 'k'.repeat(255), { title: 'long key' });
    expect(res.status).toBe(201);
  });
});

describe('concurrency', () => {
  it('50 concurrent requests with the same key create exactly one resource; the others replay or get 409', async () => {
    const project = await makeProject(t, owner, workspace.id);
    const k = newKey();
    const results = await Promise.all(Array.from({ length: 50 }, () => createTask(project.id, k, { title: 'only once' })));
    const created = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    const replayed = results.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === 'true');
    const busy = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(created.length + replayed.length + busy.length).toBe(50);
    for (const r of replayed) expect(r.body.data.id).toBe(created[0]!.body.data.id);
    for (const r of busy) expect(r.body.error.param).toBe('Idempotency-Key');
    expect(await taskTotal(project.id)).toBe(1);
    const again = await createTask(project.id, k, { title: 'only once' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.data.id).toBe(created[0]!.body.data.id);
  });

  it('50 concurrent API-key creations with the same Idempotency-Key create exactly one key', async () => {
    const user = await makeUser(t);
    const before = (await t.request({ url: '/v1/api-keys', key: user.key })).body.meta.total;
    const k = newKey();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => t.request({ method: 'POST', url: '/v1/api-keys', key: user.key, body: { name: 'race' }, headers: { 'idempotency-key': k } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
    expect((await t.request({ url: '/v1/api-keys', key: user.key })).body.meta.total).toBe(before + 1);
  });
});

// Key lifecycle: last use (time and address) kept without a write per request, and a
// key.expiring event 7 days before a key expires, written once however many passes run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { movableClock } from '../clock.ts';
import { makeKey, makeProject, makeWorkspace, makeWorld } from '../factories.ts';

const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

const DAY_MS = 86_400_000;
const row = (id: string) => t.database.db.selectFrom('api_keys').select(['last_used_at', 'last_used_ip', 'expiry_notified_at']).where('id', '=', id).executeTakeFirstOrThrow();
const expiringEvents = (keyId: string) => t.database.db.selectFrom('events').selectAll().where('type', '=', 'key.expiring').where('resource_id', '=', keyId).orderBy('workspace_id').execute();

/** Background writes of last use land within a second. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 10));
    v = await read();
  }
  return v;
}

describe('keys', () => {
  it('keeps when and from where a key was last used, at most once a minute: never a write per request', async () => {
    const { owner } = await makeWorld(t);
    const key = await makeKey(t, owner);
    expect((await t.request({ url: '/v1/workspaces', key: key.key })).status).toBe(200);
    const first = await eventually(() => row(key.id), (r) => r.last_used_ip !== null);
    expect(first.last_used_ip).toBe('127.0.0.1');
    expect(first.last_used_at).not.toBeNull();
    // Cleared behind the server's back: more requests within the minute write nothing.
    await t.database.db.updateTable('api_keys').set({ last_used_at: null, last_used_ip: null }).where('id', '=', key.id).execute();
    for (let i = 0; i < 5; i++) await t.request({ url: '/v1/workspaces', key: key.key });
    await new Promise((r) => setTimeout(r, 100));
    expect(await row(key.id)).toMatchObject({ last_used_at: null, last_used_ip: null });
    const listed = await t.request({ url: '/v1/api-keys', key: owner.key });
    expect(listed.body.data.find((k: { id: string }) => k.id === owner.keyId)).toHaveProperty('last_used_ip');
  });

  it('writes key.expiring once, 7 days before expiry, in each workspace of its user (or its project key\'s workspace), however many passes run at once', async () => {
    try {
      clock.freeze();
      const { owner, workspace } = await makeWorld(t);
      const second = await makeWorkspace(t, owner);
      const soon = await makeKey(t, owner, { expires_in_days: 5 });
      const later = await makeKey(t, owner, { expires_in_days: 30 });
      const project = await makeProject(t, owner, workspace.id);
      const made = await t.request({ method: 'POST', url: '/v1/api-keys', key: owner.key, body: { name: 'project key', project_id: project.id, expires_in_days: 3 } });
      expect(made.status, made.text).toBe(201);
      const projectKey = made.body.data as { id: string };
      const results = await Promise.all([1, 2, 3].map(() => t.deps.services.apiKeys.notifyExpiring()));
      // The two keys within 7 days of expiry, each noticed by exactly one of the passes.
      expect(results.reduce((a, b) => a + b, 0)).toBe(2);
      const events = await expiringEvents(soon.id);
      expect(events.map((e) => e.workspace_id).sort()).toEqual([workspace.id, second.id].sort());
      expect(events[0]!.data).toMatchObject({ id: soon.id, user_id: owner.userId, expires_in_seconds: 5 * 86_400 });
      expect(JSON.stringify(events[0]!.data)).not.toMatch(/secret|hash/);
      expect(events[0]!.actor_user_id).toBeNull();
      expect((await expiringEvents(projectKey.id)).map((e) => [e.workspace_id, e.project_id])).toEqual([[workspace.id, project.id]]);
      expect(await expiringEvents(later.id)).toEqual([]);
      // Again: nothing new. 24 days on, the 30-day key's turn comes.
      await t.deps.services.apiKeys.notifyExpiring();
      expect((await expiringEvents(soon.id)).length).toBe(2);
      clock.advance(24 * DAY_MS);
      await t.deps.services.apiKeys.notifyExpiring();
      expect((await expiringEvents(later.id)).length).toBe(2);
      expect((await row(later.id)).expiry_notified_at).not.toBeNull();
    } finally {
      clock.reset();
    }
  });

  it('writes none for a revoked key', async () => {
    const { owner } = await makeWorld(t);
    const key = await makeKey(t, owner, { expires_in_days: 2 });
    expect((await t.request({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, key: owner.key })).status).toBe(200);
    await t.deps.services.apiKeys.notifyExpiring();
    expect(await expiringEvents(key.id)).toEqual([]);
  });
});


// Revocation across instances: with Redis, a key revoked on one server process is refused on the
// very next request to another, however long that one caches keys; a member removed on one
// loses access on the other at once.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { addMember, makeKey, makeUser, makeWorld } from '../factories.ts';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.ts';

const shared = Boolean(process.env.SPRINTLANE_TEST_REDIS_URL && process.env.SPRINTLANE_TEST_DATABASE_URL);
const apps: TestApp[] = [];
afterEach(async () => {
  await killAllServers();
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

async function twoServers() {
  const t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  apps.push(t);
  // A cache far longer than the test: only the message from the other instance can empty it.
  const env = { DATABASE_URL: t.databaseUrl!, REDIS_URL: process.env.SPRINTLANE_TEST_REDIS_URL!, SPRINTLANE_REDIS_PREFIX: t.deps.config.redisPrefix, SPRINTLANE_AUTH_CACHE_MS: '600000', SPRINTLANE_RATE_LIMIT: 'false' };
  const [a, b] = await Promise.all([startServer({ env }), startServer({ env })]);
  return { t, a, b };
}

// Not /v1/api-keys/self, which reads the key again itself: a route that trusts the authenticated key.
const call = (s: ServerProcess, key: string, path = '/v1/workspaces', method = 'GET') => fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });

describe.skipIf(!shared)('revocation across instances', () => {
  it('a key revoked on one instance is refused on the very next request to another', async () => {
    const { t, a, b } = await twoServers();
    const owner = await makeUser(t);
    const victim = await makeKey(t, owner);
    expect((await call(b, victim.key)).status).toBe(200);
    expect((await call(a, victim.key)).status).toBe(200);
    const revoked = await call(a, owner.key, `/v1/api-keys/${victim.id}`, 'DELETE');
    expect(revoked.status).toBe(200);
    expect((await call(b, victim.key)).status).toBe(401);
    expect((await call(a, victim.key)).status).toBe(401);
  });

  it('a member removed on one instance loses the workspace on the next request to another', async () => {
    const { t, a, b } = await twoServers();
    const { owner, workspace } = await makeWorld(t);
    const member = await makeUser(t);
    const membership = await addMember(t, owner, workspace.id, member, 'member');
    expect((await call(b, member.key, `/v1/workspaces/${workspace.id}`)).status).toBe(200);
    expect((await call(a, owner.key, `/v1/members/${membership.id}`, 'DELETE')).status).toBe(200);
    expect((await call(b, member.key, `/v1/workspaces/${workspace.id}`)).status).toBe(404);
  });
});

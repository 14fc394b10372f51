// Webhook delivery across real server processes: two instances on one PostgreSQL share the work
// without losing or repeating an event, and a server killed (SIGKILL) at random moments while
// changes are being made delivers every acknowledged change once it is back, with the same
// webhook-id on any repeat.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from './app.ts';
import { makeWorld } from './factories.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { freshDataDir, killAllServers, startServer, type ServerProcess } from './helpers/server-process.ts';

const SLOW = 600_000;
const WEBHOOK_ENV = { SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: 'true', SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true', SPRINTLANE_RATE_LIMIT: 'false' };

let receiver: Receiver | undefined;
afterEach(async () => {
  await killAllServers();
  await receiver?.close();
  receiver = undefined;
});
afterAll(async () => {
  await killAllServers();
});

/** Waits until `done()` holds, polling; fails with `what` after `ms`. */
async function until(done: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the receiver got for one webhook path: webhook-ids by event id. */
function byEvent(r: Receiver, path: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const got of r.received.filter((x) => x.path === path)) {
    const event = JSON.parse(got.body) as { id: string };
    let ids = out.get(event.id);
    if (!ids) out.set(event.id, (ids = new Set()));
    ids.add(String(got.headers['webhook-id']));
  }
  return out;
}

describe('webhook delivery across processes', () => {
  it.skipIf(!process.env.SPRINTLANE_TEST_DATABASE_URL)('two server instances on one PostgreSQL deliver 1,000 events with none lost and none twice', { timeout: SLOW }, async () => {
    receiver = await startReceiver();
    const secretKey = randomBytes(32).toString('base64');
    // The test app writes the changes; the two servers (sharing its database and secret key) deliver.
    const t = await createTestApp({ env: { ...WEBHOOK_ENV, SPRINTLANE_SECRET_KEY: secretKey, SPRINTLANE_WEBHOOK_CONCURRENCY: '0' } });
    try {
      const world = await makeWorld(t);
      const hook = await t.request({ method: 'POST', url: '/v1/webhooks', key: world.owner.key, body: { url: `${receiver.url}/two`, events: ['task.created'], workspace_id: world.workspace.id } });
      expect(hook.status, hook.text).toBe(201);
      const env = { ...WEBHOOK_ENV, DATABASE_URL: t.databaseUrl!, SPRINTLANE_SECRET_KEY: secretKey, SPRINTLANE_WEBHOOK_CONCURRENCY: '8' };
      await Promise.all([startServer({ env }), startServer({ env })]);
      const created = new Set<string>();
      for (let batch = 0; batch < 10; batch++) {
        const res = await t.request({
          method: 'POST',
          url: `/v1/projects/${world.project.id}/tasks/batch`,
          key: world.owner.key,
          body: { tasks: Array.from({ length: 100 }, (_, i) => ({ title: `Task ${batch * 100 + i}` })) },
        });
        expect(res.status, res.text).toBe(201);
        for (const item of res.body.data) created.add(item.id);
      }
      expect(created.size).toBe(1000);
      await until(() => byEvent(receiver!, '/two').size >= 1000, 120_000, () => `${byEvent(receiver!, '/two').size} of 1000 events received`);
      // A moment more, for any duplicate still on its way.
      await new Promise((r) => setTimeout(r, 1000));
      const got = receiver.received.filter((x) => x.path === '/two');
      const tasks = new Set(got.map((x) => (JSON.parse(x.body) as { data: { id: string } }).data.id));
      expect(tasks).toEqual(created);
      expect(got).toHaveLength(1000);
      expect(new Set(got.map((x) => x.headers['webhook-id'])).size).toBe(1000);
    } finally {
      await killAllServers();
      await t.close();
    }
  });

  it('a server killed with SIGKILL at random moments 20 times delivers every acknowledged change after restarting, a repeat keeping its webhook-id', { timeout: SLOW }, async () => {
    receiver = await startReceiver();
    // On the embedded database one data directory holds everything across restarts; on
    // PostgreSQL the test app's database does, and the servers share one secret key.
    const t = process.env.SPRINTLANE_TEST_DATABASE_URL ? await createTestApp({ env: WEBHOOK_ENV }) : undefined;
    const dataDir = t ? undefined : freshDataDir();
    const key = t ? t.adminKey : `test_admin_${randomBytes(16).toString('hex')}`;
    const env = {
      ...WEBHOOK_ENV,
      // The default timeout: under a loaded CI machine a 2 s one timed out first attempts, whose
      // retries (5 s, then 5 min) outlast the wait below; a delivery a kill cut short waits out its
      // lease (timeout + 30 s) before it is sent again.
      ...(t ? { DATABASE_URL: t.databaseUrl!, SPRINTLANE_SECRET_KEY: randomBytes(32).toString('base64') } : { SPRINTLANE_ADMIN_TOKEN: key }),
    };
    let server: ServerProcess = await startServer({ dataDir, env });
    const workspaces = await server.request('GET', '/v1/workspaces', { key });
    const workspaceId: string = workspaces.body.data[0].id;
    const project = await server.request('POST', `/v1/workspaces/${workspaceId}/projects`, { key, body: { name: 'Crash' } });
    expect(project.status, project.text).toBe(201);
    const hook = await server.request('POST', '/v1/webhooks', { key, body: { url: `${receiver.url}/crash`, events: ['task.created'], workspace_id: workspaceId } });
    expect(hook.status, hook.text).toBe(201);

    const acknowledged = new Set<string>();
    for (let round = 0; round < 20; round++) {
      let writing = true;
      const target = server;
      // Changes keep coming until the kill; only the ones answered 201 count as acknowledged.
      const writer = (async () => {
        let n = 0;
        while (writing) {
          try {
            const res = await target.request('POST', `/v1/projects/${project.body.data.id}/tasks`, { key, body: { title: `Round ${round} task ${n++}` } });
            if (res.status === 201) acknowledged.add(res.body.data.id);
          } catch {
            return; // the server is gone
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 800)));
      await server.kill();
      writing = false;
      await writer;
      server = await startServer({ dataDir, env });
    }
    expect(acknowledged.size).toBeGreaterThan(20);
    const delivered = () => new Set(receiver!.received.filter((x) => x.path === '/crash').map((x) => (JSON.parse(x.body) as { data: { id: string } }).data.id));
    try {
      await until(() => [...acknowledged].every((id) => delivered().has(id)), 240_000, () => `${[...acknowledged].filter((id) => !delivered().has(id)).length} of ${acknowledged.size} acknowledged changes not delivered`);
    } catch (err) {
      // What the server knows of the deliveries still waiting, to tell a lost event from a slow one.
      const waiting = await server.request('GET', `/v1/webhooks/${hook.body.data.id}/deliveries?status=pending&per_page=20`, { key }).catch(() => undefined);
      const log = (waiting?.body?.data ?? []) as Array<{ id: string; attempts: number; next_attempt_at: string | null; attempt_log: unknown[] }>;
      throw new Error(`${(err as Error).message}; pending deliveries: ${JSON.stringify(log.map((d) => ({ id: d.id, attempts: d.attempts, next: d.next_attempt_at, last: d.attempt_log.at(-1) })))}`);
    }
    // Every event reached the receiver under one webhook-id, however often it came.
    const ids = byEvent(receiver, '/crash');
    expect([...ids.values()].filter((s) => s.size !== 1)).toEqual([]);
    await killAllServers();
    await t?.close();
  });
});

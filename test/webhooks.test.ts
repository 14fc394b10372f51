// Webhooks: the management API, and deliveries to a real receiver on loopback (allowed through
// SPRINTLANE_WEBHOOK_ALLOW_PRIVATE), each verified with the standardwebhooks package.
import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { expectError } from './assertions.ts';
import { movableClock } from './clock.ts';
import { addMember, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

const HOUR = 60 * 60 * 1000;

let t: TestApp;
let receiver: Receiver;
const clock = movableClock();
let world: Awaited<ReturnType<typeof makeWorld>>;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp({
    clock,
    jitter: () => 1,
    env: { SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: 'true', SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true', SPRINTLANE_WEBHOOK_TIMEOUT_MS: '1000', SPRINTLANE_RATE_LIMIT: 'false' },
  });
  world = await makeWorld(t);
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});
beforeEach(async () => {
  clock.reset();
  // Each test watches its own endpoints: the earlier tests' (failing, hanging) are gone.
  await t.deps.database.db.deleteFrom('webhooks').execute();
});

let paths = 0;
/** A webhook on the world's workspace, to its own path of the receiver. */
async function hook(body: Record<string, unknown> = {}, by: Actor = world.owner) {
  const path = `/hook-${++paths}`;
  const res = await t.request({ method: 'POST', url: '/v1/webhooks', key: by.key, body: { url: `${receiver.url}${path}`, events: ['*'], workspace_id: world.workspace.id, ...body } });
  expect(res.status, res.text).toBe(201);
  return { ...res.body.data, path } as { id: string; secret: string; path: string; [k: string]: unknown };
}

const at = (path: string) => receiver.received.filter((r) => r.path === path);
const drain = () => t.deps.webhookWorker.drain();
const deliveries = async (id: string) => (await t.request({ url: `/v1/webhooks/${id}/deliveries?per_page=100`, key: world.owner.key })).body.data as any[];

/** Verifies a delivery with the standardwebhooks package, at the server's time (the test clock may be ahead). */
function verify(secret: string, r: { headers: Record<string, unknown>; body: string }) {
  const now = vi.spyOn(Date, 'now').mockReturnValue(clock.now().getTime());
  try {
    return new Webhook(secret).verify(r.body, {
      'webhook-id': String(r.headers['webhook-id']),
      'webhook-timestamp': String(r.headers['webhook-timestamp']),
      'webhook-signature': String(r.headers['webhook-signature']),
    });
  } finally {
    now.mockRestore();
  }
}

/** Times in the API are whole seconds. */
const second = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('webhook management', () => {
  it('creates a webhook with a generated whsec_ secret shown once: never in a GET, a list or the database', async () => {
    const w = await hook({ events: ['task.*'], description: 'CI' });
    expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(w).toMatchObject({ workspace_id: world.workspace.id, project_id: null, events: ['task.*'], description: 'CI', active: true, disabled_reason: null, created_by: world.owner.userId });
    const got = await t.request({ url: `/v1/webhooks/${w.id}`, key: world.owner.key });
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(w.secret.slice(6));
    expect(got.body.data).not.toHaveProperty('secret');
    const list = await t.request({ url: `/v1/webhooks?workspace_id=${world.workspace.id}`, key: world.owner.key });
    expect(list.body.data.map((x: { id: string }) => x.id)).toContain(w.id);
    expect(list.text).not.toContain(w.secret.slice(6));
    const row = await t.deps.database.db.selectFrom('webhooks').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(w.secret.slice(6));
    expect(t.logs.join('')).not.toContain(w.secret.slice(6));
  });

  it('keeps a secret it is given, and watches one project when given project_id', async () => {
    const w = await hook({ workspace_id: undefined, project_id: world.project.id, secret: 'a-shared-secret-of-ours' });
    expect(w.secret).toBe('a-shared-secret-of-ours');
    expect(w.project_id).toBe(world.project.id);
    expect(w.workspace_id).toBe(world.workspace.id);
  });

  it('refuses a webhook without workspace_id or project_id, with events outside the catalogue format, or with none', async () => {
    const base = { url: `${receiver.url}/x`, events: ['*'] };
    expectError(await t.request({ method: 'POST', url: '/v1/webhooks', key: world.owner.key, body: base }), 400, 'PARAMETER_REQUIRED', 'workspace_id');
    expectError(await t.request({ method: 'POST', url: '/v1/webhooks', key: world.owner.key, body: { ...base, workspace_id: world.workspace.id, events: [] } }), 400, 'VALIDATION_ERROR', 'events');
    expectError(await t.request({ method: 'POST', url: '/v1/webhooks', key: world.owner.key, body: { ...base, workspace_id: world.workspace.id, events: ['Task Created'] } }), 400, 'VALIDATION_ERROR', 'events[0]');
  });

  it('lets admins and owners manage webhooks, and nobody below: a member gets 403 ROLE_TOO_LOW, an outsider 404', async () => {
    const member = await makeUser(t);
    await addMember(t, world.owner, world.workspace.id, member, 'member');
    const outsider = await makeUser(t);
    const body = { url: `${receiver.url}/x`, events: ['*'], workspace_id: world.workspace.id };
    expectError(await t.request({ method: 'POST', url: '/v1/webhooks', key: member.key, body }), 403, 'ROLE_TOO_LOW');
    expectError(await t.request({ method: 'POST', url: '/v1/webhooks', key: outsider.key, body }), 404, 'NOT_FOUND');
    const w = await hook();
    expectError(await t.request({ url: `/v1/webhooks/${w.id}`, key: member.key }), 403, 'ROLE_TOO_LOW');
    expectError(await t.request({ url: `/v1/webhooks/${w.id}`, key: outsider.key }), 404, 'NOT_FOUND');
  });

  it("shows only a webhook's origin in the change feed, which every member reads: its path and query may hold the receiver's own secret", async () => {
    const w = await hook({ url: `${receiver.url}/services/T000/B000/s3cr3t-token?sig=abc` });
    await t.request({ method: 'PATCH', url: `/v1/webhooks/${w.id}`, key: world.owner.key, body: { url: `${receiver.url}/other/s3cr3t-two` } });
    await t.request({ method: 'DELETE', url: `/v1/webhooks/${w.id}`, key: world.owner.key });
    const feed = await t.request({ url: `/v1/events?workspace_id=${world.workspace.id}&types=webhook.*&limit=1000`, key: world.owner.key });
    const mine = feed.body.data.filter((e: { resource_id: string }) => e.resource_id === w.id);
    expect(mine.map((e: { type: string }) => e.type)).toEqual(['webhook.created', 'webhook.updated', 'webhook.deleted']);
    expect(mine.every((e: { data: { url: string } }) => e.data.url === `${receiver.url}/…`)).toBe(true);
    expect(JSON.stringify(mine)).not.toMatch(/s3cr3t|sig=abc/);
  });

  it('updates url, events and active, with a new ETag, and deletes idempotently', async () => {
    const w = await hook();
    const first = await t.request({ url: `/v1/webhooks/${w.id}`, key: world.owner.key });
    const res = await t.request({ method: 'PATCH', url: `/v1/webhooks/${w.id}`, key: world.owner.key, body: { events: ['comment.created'], active: false } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ events: ['comment.created'], active: false, disabled_reason: 'by_request' });
    expect(res.headers.etag).not.toBe(first.headers.etag);
    const again = await t.request({ method: 'PATCH', url: `/v1/webhooks/${w.id}`, key: world.owner.key, body: { active: true } });
    expect(again.body.data).toMatchObject({ active: true, disabled_reason: null });
    for (let i = 0; i < 2; i++) {
      const del = await t.request({ method: 'DELETE', url: `/v1/webhooks/${w.id}`, key: world.owner.key });
      expect(del.status).toBe(200);
      expect(del.body.data).toEqual({ id: w.id, deleted: true });
    }
    expectError(await t.request({ url: `/v1/webhooks/${w.id}`, key: world.owner.key }), 404, 'NOT_FOUND');
  });
});

describe('deliveries', () => {
  it('delivers a change signed per Standard Webhooks, with the event as the feed shows it and the resource as the API renders it', async () => {
    const w = await hook({ events: ['task.created', 'task.updated'] });
    const task = await makeTask(t, world.owner, world.project.id);
    await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: world.owner.key, body: { title: 'Renamed' } });
    await drain();
    // Deliveries go out concurrently: their order is not promised (occurred_at and the feed give it).
    const got = at(w.path).sort((a, b) => JSON.parse(a.body).type.localeCompare(JSON.parse(b.body).type));
    expect(got.map((r) => JSON.parse(r.body).type)).toEqual(['task.created', 'task.updated']);
    for (const r of got) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(verify(w.secret, r)).toBeTruthy();
    }
    const [created, updated] = got.map((r) => JSON.parse(r.body));
    const rendered = (await t.request({ url: `/v1/tasks/${task.id}`, key: world.owner.key })).body.data;
    expect(created).toMatchObject({ type: 'task.created', workspace_id: world.workspace.id, actor: { user_id: world.owner.userId, key_id: world.owner.keyId }, changes: null });
    expect(created.id).toMatch(/^evt_/);
    expect(created.data.id).toBe(task.id);
    expect(updated.data).toEqual(rendered);
    expect(updated.changes.title).toEqual({ from: task.title, to: 'Renamed' });
    const feed = (await t.request({ url: `/v1/events?workspace_id=${world.workspace.id}&types=task.updated&limit=100`, key: world.owner.key })).body.data;
    expect(feed.find((e: { id: string }) => e.id === updated.id)).toEqual(updated);
    const log = await deliveries(w.id);
    expect(log.map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
    log.sort((a, b) => a.event_type.localeCompare(b.event_type));
    expect(log[0].attempt_log).toEqual([expect.objectContaining({ status_code: 200, response_excerpt: 'ok', error: null })]);
    expect(log.map((d) => d.id).sort()).toEqual(got.map((r) => String(r.headers['webhook-id'])).sort());
  });

  it('gives a task.* subscriber every task event and no time_entry.* one', async () => {
    const w = await hook({ events: ['task.*'] });
    const task = await makeTask(t, world.owner, world.project.id);
    await t.request({ method: 'POST', url: '/v1/time-entries', key: world.owner.key, body: { task_id: task.id, duration_minutes: 15 } });
    await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: world.owner.key });
    await drain();
    const types = at(w.path).map((r) => JSON.parse(r.body).type);
    expect(types).toContain('task.created');
    expect(types).toContain('task.deleted');
    expect(types.filter((x) => !x.startsWith('task.'))).toEqual([]);
  });

  it('delivers nothing for a change that was rolled back', async () => {
    const w = await hook({ events: ['task.*'] });
    const before = (await deliveries(w.id)).length;
    // An atomic batch with one item refused: the valid items' writes and events roll back with it.
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks/batch`,
      key: world.owner.key,
      body: { tasks: [{ title: 'would be created' }, { title: 'refused', status: 'no-such-column' }] },
    });
    expectError(res, 422, 'BATCH_REJECTED');
    await drain();
    expect(at(w.path)).toEqual([]);
    expect((await deliveries(w.id)).length).toBe(before);
  });

  it('sends a ping on request, logged like any delivery', async () => {
    const w = await hook();
    const res = await t.request({ method: 'POST', url: `/v1/webhooks/${w.id}/test`, key: world.owner.key });
    expect(res.status, res.text).toBe(202);
    expect(res.body.data).toMatchObject({ event_type: 'ping', status: 'pending', attempts: 0, event_id: null });
    await drain();
    const [r] = at(w.path);
    expect(JSON.parse(r!.body)).toMatchObject({ type: 'ping', workspace_id: world.workspace.id, data: { id: w.id } });
    expect(r!.headers['webhook-id']).toBe(res.body.data.id);
    expect(verify(w.secret, r!)).toBeTruthy();
  });

  it('stops delivering to a webhook whose creator has left the workspace', async () => {
    const admin = await makeUser(t);
    const membership = await addMember(t, world.owner, world.workspace.id, admin, 'admin');
    const w = await hook({ events: ['task.created'] }, admin);
    await t.request({ method: 'DELETE', url: `/v1/members/${membership.id}`, key: world.owner.key });
    await makeTask(t, world.owner, world.project.id);
    await drain();
    expect(at(w.path)).toEqual([]);
  });

  it('rotates the secret: both verify during the window, only the new one after it', async () => {
    const w = await hook({ events: ['task.created'] });
    const rotated = await t.request({ method: 'POST', url: `/v1/webhooks/${w.id}/secret/rotate`, key: world.owner.key, body: {} });
    expect(rotated.status, rotated.text).toBe(200);
    const secret = rotated.body.data.secret as string;
    expect(secret).not.toBe(w.secret);
    expect(Date.parse(rotated.body.data.rotation_ends_at) - clock.now().getTime()).toBeGreaterThan(23.9 * HOUR);
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const during = at(w.path).at(-1)!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(secret, during)).toBeTruthy();
    expect(verify(w.secret, during)).toBeTruthy();
    clock.advance(25 * HOUR);
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const after = at(w.path).at(-1)!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verify(secret, after)).toBeTruthy();
    expect(() => verify(w.secret, after)).toThrow();
  });
});

describe('retries', () => {
  it('retries a failing receiver on the schedule (now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then gives up', async () => {
    clock.freeze();
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(500).end('boom'));
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const waits = [5_000, 5 * 60_000, 30 * 60_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
    for (const wait of waits) {
      const [d] = await deliveries(w.id);
      expect(d.status).toBe('pending');
      expect(Date.parse(d.next_attempt_at)).toBe(second(clock.now().getTime() + wait));
      // Not a moment before it is due.
      clock.advance(wait - 1000);
      await drain();
      expect((await deliveries(w.id))[0].attempts).toBe(d.attempts);
      clock.advance(1000);
      await drain();
    }
    const [d] = await deliveries(w.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 8, next_attempt_at: null });
    expect(d.attempt_log).toHaveLength(8);
    expect(d.attempt_log.every((a: { status_code: number; response_excerpt: string }) => a.status_code === 500 && a.response_excerpt === 'boom')).toBe(true);
    expect(at(w.path)).toHaveLength(8);
    expect(new Set(at(w.path).map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('disables the endpoint at once on a 410 and records webhook.disabled', async () => {
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(410).end());
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const got = (await t.request({ url: `/v1/webhooks/${w.id}`, key: world.owner.key })).body.data;
    expect(got).toMatchObject({ active: false, disabled_reason: 'gone' });
    expect((await deliveries(w.id))[0]).toMatchObject({ status: 'failed', attempts: 1 });
    await makeTask(t, world.owner, world.project.id);
    await drain();
    expect(at(w.path)).toHaveLength(1);
    const feed = (await t.request({ url: `/v1/events?workspace_id=${world.workspace.id}&types=webhook.disabled&limit=100`, key: world.owner.key })).body.data;
    expect(feed.some((e: { resource_id: string }) => e.resource_id === w.id)).toBe(true);
  });

  it("honours Retry-After on a 429: the next attempt waits as long as the receiver asks", async () => {
    clock.freeze();
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const [d] = await deliveries(w.id);
    expect(Date.parse(d.next_attempt_at)).toBe(second(clock.now().getTime() + 120_000));
  });

  it('honours Retry-After given as an HTTP date on a 503', async () => {
    clock.freeze();
    const w = await hook({ events: ['task.created'] });
    // The worker reads a date against the real clock (the receiver's), so the date is set from it.
    const until = second(Date.now() + 10 * 60_000);
    receiver.answer(w.path, (_req, res) => res.writeHead(503, { 'retry-after': new Date(until).toUTCString() }).end());
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const [d] = await deliveries(w.id);
    // Ten minutes, longer than the 5 s the schedule gives a first retry (give or take the second the date is cut to).
    const wait = Date.parse(d.next_attempt_at) - clock.now().getTime();
    expect(wait).toBeGreaterThan(9 * 60_000);
    expect(wait).toBeLessThanOrEqual(10 * 60_000);
  });

  it('does not follow a redirect: a 3xx is a failed attempt and the target is never called', async () => {
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(302, { location: `${receiver.url}/elsewhere` }).end());
    await makeTask(t, world.owner, world.project.id);
    await drain();
    expect((await deliveries(w.id))[0]).toMatchObject({ status: 'pending', attempts: 1, attempt_log: [expect.objectContaining({ status_code: 302 })] });
    expect(at('/elsewhere')).toEqual([]);
  });

  it('gives up on a receiver that hangs after the timeout, and keeps the excerpt of a 50 MB answer to 1 KiB', async () => {
    const hang = await hook({ events: ['task.created'] });
    receiver.answer(hang.path, () => {});
    const big = await hook({ events: ['task.created'] });
    receiver.answer(big.path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      let sent = 0;
      const write = () => {
        while (sent < 50 && res.write(chunk)) sent++;
        if (sent >= 50) res.end();
        else res.once('drain', () => { sent++; write(); });
      };
      write();
    });
    await makeTask(t, world.owner, world.project.id);
    const started = Date.now();
    await drain();
    expect(Date.now() - started).toBeLessThan(5000);
    const [h] = await deliveries(hang.id);
    expect(h).toMatchObject({ status: 'pending', attempts: 1 });
    expect(h.attempt_log[0].status_code).toBeNull();
    expect(h.attempt_log[0].error).toMatch(/timeout/i);
    const [b] = await deliveries(big.id);
    expect(b.status).toBe('succeeded');
    expect(b.attempt_log[0].response_excerpt).toHaveLength(1024);
  });

  it('disables an endpoint whose deliveries have all failed for 5 days, recording webhook.disabled', async () => {
    clock.freeze();
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(500).end());
    for (let day = 0; day <= 5; day++) {
      await makeTask(t, world.owner, world.project.id);
      await drain();
      if (day < 5) clock.advance(24 * HOUR);
    }
    const got = (await t.request({ url: `/v1/webhooks/${w.id}`, key: world.owner.key })).body.data;
    expect(got).toMatchObject({ active: false, disabled_reason: 'failing' });
    const feed = (await t.request({ url: `/v1/events?workspace_id=${world.workspace.id}&types=webhook.disabled&limit=100`, key: world.owner.key })).body.data;
    expect(feed.some((e: { resource_id: string; data: { disabled_reason: string } }) => e.resource_id === w.id && e.data.disabled_reason === 'failing')).toBe(true);
  });
});

describe('redelivery', () => {
  it('sends a delivery again with the same webhook-id, and refuses after 30 days', async () => {
    const w = await hook({ events: ['task.created'] });
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const [d] = await deliveries(w.id);
    const res = await t.request({ method: 'POST', url: `/v1/webhooks/${w.id}/deliveries/${d.id}/redeliver`, key: world.owner.key });
    expect(res.status, res.text).toBe(202);
    await drain();
    const got = at(w.path);
    expect(got).toHaveLength(2);
    expect(got[1]!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id']);
    expect(got[1]!.body).toBe(got[0]!.body);
    const one = await t.request({ url: `/v1/webhooks/${w.id}/deliveries/${d.id}`, key: world.owner.key });
    expect(one.body.data).toMatchObject({ status: 'succeeded', attempts: 2 });
    // A delivery made 31 days ago (the keys would have expired had the clock moved).
    await t.deps.database.db.updateTable('webhook_deliveries').set({ created_at: new Date(Date.now() - 31 * 24 * HOUR) }).where('id', '=', d.id).execute();
    expectError(await t.request({ method: 'POST', url: `/v1/webhooks/${w.id}/deliveries/${d.id}/redeliver`, key: world.owner.key }), 422, 'REDELIVERY_EXPIRED', 'delivery_id');
    expectError(await t.request({ method: 'POST', url: `/v1/webhooks/${w.id}/deliveries/msg_nope/redeliver`, key: world.owner.key }), 404, 'NOT_FOUND');
    // Housekeeping then removes it, as nothing can be done with it any more.
    expect(await t.deps.services.webhooks.pruneDeliveries()).toBe(1);
    expectError(await t.request({ url: `/v1/webhooks/${w.id}/deliveries/${d.id}`, key: world.owner.key }), 404, 'NOT_FOUND');
  });
});

describe('slow receivers', () => {
  /** Answers `path` after `ms`, with `status`, noting the most requests it held at once. */
  function tracked(path: string, ms: number, status: number) {
    const seen = { open: 0, most: 0 };
    receiver.answer(path, (_req, res) => {
      seen.most = Math.max(seen.most, ++seen.open);
      setTimeout(() => {
        seen.open -= 1;
        res.writeHead(status).end();
      }, ms);
    });
    return seen;
  }

  it('holds a hanging receiver to its share of the slots: a fast one gets every delivery while the hanging ones are still open', async () => {
    // Its own instance, whose timeout outlasts the test: the hanging requests are answered by the
    // test at the end, so nothing here depends on how fast the machine is.
    const slow = await createTestApp({ jitter: () => 1, env: { SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: 'true', SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true', SPRINTLANE_WEBHOOK_TIMEOUT_MS: '120000', SPRINTLANE_WEBHOOK_ENDPOINT_CONCURRENCY: '8', SPRINTLANE_RATE_LIMIT: 'false' } });
    const held: ServerResponse[] = [];
    try {
      const w = await makeWorld(slow);
      const create = async (path: string) => {
        const res = await slow.request({ method: 'POST', url: '/v1/webhooks', key: w.owner.key, body: { url: `${receiver.url}${path}`, events: ['task.created'], project_id: w.project.id } });
        expect(res.status, res.text).toBe(201);
      };
      await create('/hangs');
      await create('/answers');
      receiver.answer('/hangs', (_req, res) => held.push(res));
      const fast = tracked('/answers', 5, 200);
      const batch = await slow.request({ method: 'POST', url: `/v1/projects/${w.project.id}/tasks/batch`, key: w.owner.key, body: { tasks: Array.from({ length: 30 }, (_, i) => ({ title: `Task ${i}` })) } });
      expect(batch.status, batch.text).toBe(201);

      let drained = false;
      const draining = slow.deps.webhookWorker.drain().then(() => (drained = true));
      await vi.waitFor(() => expect(at('/answers')).toHaveLength(30), { timeout: 60_000, interval: 20 });
      // The hanging endpoint holds its 8 (SPRINTLANE_WEBHOOK_ENDPOINT_CONCURRENCY) and no more.
      expect(held).toHaveLength(8);
      expect(drained).toBe(false);
      expect(fast.most).toBeLessThanOrEqual(8);

      for (const res of held.splice(0)) res.writeHead(200).end();
      receiver.answer('/hangs', (_req, res) => res.writeHead(200).end());
      await draining;
      expect(at('/hangs')).toHaveLength(30);
    } finally {
      for (const res of held) res.destroy();
      await slow.close();
    }
  });

  it('sends a failing endpoint one delivery at a time until it answers again', async () => {
    clock.freeze();
    const w = await hook({ events: ['task.created'] });
    receiver.answer(w.path, (_req, res) => res.writeHead(500).end());
    await makeTask(t, world.owner, world.project.id);
    await drain();
    const failing = tracked(w.path, 30, 500);
    for (let i = 0; i < 5; i++) await makeTask(t, world.owner, world.project.id);
    await drain();
    expect(at(w.path)).toHaveLength(6);
    expect(failing.most).toBe(1);
    // Answering again, it gets its share at once.
    const healthy = tracked(w.path, 30, 200);
    for (let i = 0; i < 20; i++) await makeTask(t, world.owner, world.project.id);
    await drain();
    expect(at(w.path)).toHaveLength(26);
    expect(healthy.most).toBeGreaterThan(1);
    expect(healthy.most).toBeLessThanOrEqual(t.deps.config.webhooks.endpointConcurrency);
  });
});

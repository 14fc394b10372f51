// Per-key rate limits: the X-RateLimit-* headers on every authenticated response, the hourly quota,
// the per-minute burst cap (which costs no hourly quota), plans, and switching limits off.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectError } from '../assertions.ts';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { makeKey, makeUser, type Actor } from '../factories.ts';

const HOURLY = 8;
const BURST = 4;

/** Puts the bootstrap admin's workspace on the enterprise plan, so the factories never hit the small free limits. */
async function liftAdmin(t: TestApp): Promise<void> {
  const list = await t.request({ url: '/v1/workspaces', key: t.adminKey });
  const ws = list.body.data.find((w: { slug: string }) => w.slug === 'default');
  const res = await t.request({ method: 'PATCH', url: `/v1/workspaces/${ws.id}`, key: t.adminKey, body: { plan: 'enterprise' } });
  expect(res.status).toBe(200);
}

function limits(res: Response) {
  return {
    limit: res.headers['x-ratelimit-limit'],
    remaining: res.headers['x-ratelimit-remaining'],
    reset: res.headers['x-ratelimit-reset'],
  };
}

const ENTERPRISE = { SPRINTLANE_RATE_LIMIT_ENTERPRISE_HOURLY: '1000000', SPRINTLANE_RATE_LIMIT_ENTERPRISE_BURST: '1000000' };

describe('headers and the hourly quota', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT_FREE_HOURLY: String(HOURLY), SPRINTLANE_RATE_LIMIT_FREE_BURST: '1000', ...ENTERPRISE } });
    await liftAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every authenticated response carries X-RateLimit-Limit, -Remaining and -Reset (Unix seconds)', async () => {
    const user = await makeUser(t);
    const res = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(res.status).toBe(200);
    const l = limits(res);
    expect(l.limit).toBe(String(HOURLY));
    expect(l.remaining).toBe(String(HOURLY - 1));
    const reset = Number(l.reset);
    expect(String(l.reset)).toMatch(/^\d{10}$/);
    const nowSec = Date.now() / 1000;
    expect(reset).toBeGreaterThan(nowSec);
    expect(reset).toBeLessThanOrEqual(nowSec + 3600 + 5);
  });

  it('Remaining goes down by one per request', async () => {
    const user = await makeUser(t);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) seen.push(Number(limits(await t.request({ url: '/v1/api-keys/self', key: user.key })).remaining));
    expect(seen).toEqual([HOURLY - 1, HOURLY - 2, HOURLY - 3, HOURLY - 4]);
  });

  it('error responses carry the headers too: 400, 403, 404 and 422 count against the quota', async () => {
    const user = await makeUser(t);
    const reader = await makeKey(t, user, { scopes: ['read'] });
    const cases: Array<[number, Parameters<TestApp['request']>[0]]> = [
      [404, { url: '/v1/tasks/task_doesnotexist', key: user.key }],
      [404, { url: '/v1/projects/proj_nothere/tasks', key: user.key }],
      [400, { url: '/v1/tasks?sort=bogus', key: user.key }],
      [400, { method: 'POST', url: '/v1/workspaces', key: user.key, body: { name: 1 } }],
      [422, { method: 'POST', url: '/v1/api-keys', key: user.key, body: { name: 'past', expires_at: '2000-01-01T00:00:00Z' } }],
    ];
    let expected = HOURLY;
    for (const [status, req] of cases) {
      const res = await t.request(req);
      expect(res.status, `${req.method ?? 'GET'} ${req.url}`).toBe(status);
      expected -= 1;
      expect(limits(res), `${req.method ?? 'GET'} ${req.url}`).toMatchObject({ limit: String(HOURLY), remaining: String(expected) });
      expect(res.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
    }
    const forbidden = await t.request({ method: 'POST', url: '/v1/workspaces', key: reader.key, body: { name: 'nope' } });
    expect(forbidden.status).toBe(403);
    expect(limits(forbidden)).toMatchObject({ limit: String(HOURLY), remaining: String(HOURLY - 1) });
  });

  it('a 304 Not Modified carries the headers and counts like any request', async () => {
    const user = await makeUser(t);
    // (Not /v1/api-keys/self: its last_used_at may change after the first use.)
    const first = await t.request({ url: '/v1/workspaces', key: user.key });
    const res = await t.request({ url: '/v1/workspaces', key: user.key, headers: { 'if-none-match': String(first.headers.etag) } });
    expect(res.status).toBe(304);
    expect(limits(res)).toMatchObject({ limit: String(HOURLY), remaining: String(HOURLY - 2) });
  });

  it('a 404 for an unknown route or a 405 still carries the headers for an authenticated caller', async () => {
    const user = await makeUser(t);
    const unknown = await t.request({ url: '/v1/no-such-thing', key: user.key });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-ratelimit-limit']).toBe(String(HOURLY));
    expect(unknown.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
    const wrongMethod = await t.request({ method: 'DELETE', url: '/v1/workspaces', key: user.key });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers['x-ratelimit-limit']).toBe(String(HOURLY));
  });

  it('when the hourly quota is used up the key gets 429 with Retry-After and the headers', async () => {
    const user = await makeUser(t);
    for (let i = 0; i < HOURLY; i++) expect((await t.request({ url: '/v1/api-keys/self', key: user.key })).status).toBe(200);
    const res = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    const retry = Number(res.headers['retry-after']);
    expect(String(res.headers['retry-after'])).toMatch(/^\d+$/);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(limits(res)).toMatchObject({ limit: String(HOURLY), remaining: '0' });
    expect(res.headers['x-ratelimit-reset']).toMatch(/^\d+$/);
    // Writes are refused as well, and nothing is written.
    const write = await t.request({ method: 'POST', url: '/v1/workspaces', key: user.key, body: { name: 'too late' } });
    expect(write.status).toBe(429);
  });

  it('limits are per key: another key of the same user, and another user, keep their own quota', async () => {
    const user = await makeUser(t);
    const second = await makeKey(t, user);
    const other = await makeUser(t);
    for (let i = 0; i < HOURLY; i++) await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect((await t.request({ url: '/v1/api-keys/self', key: user.key })).status).toBe(429);
    const mine = await t.request({ url: '/v1/api-keys/self', key: second.key });
    expect(mine.status).toBe(200);
    expect(limits(mine).remaining).toBe(String(HOURLY - 1));
    const theirs = await t.request({ url: '/v1/api-keys/self', key: other.key });
    expect(theirs.status).toBe(200);
    expect(limits(theirs).remaining).toBe(String(HOURLY - 1));
  });

  it('the same key counts the same whichever way it is presented', async () => {
    const user: Actor = await makeUser(t);
    const a = await t.request({ url: '/v1/api-keys/self', key: user.key });
    const b = await t.request({ url: '/v1/api-keys/self', headers: { 'private-token': user.key } });
    const c = await t.request({ url: `/v1/api-keys/self?private_token=${user.key}` });
    expect([a, b, c].map((r) => limits(r).remaining)).toEqual([String(HOURLY - 1), String(HOURLY - 2), String(HOURLY - 3)]);
  });

  it('a key whose user joins a workspace on a better plan gets that plan\'s quota', async () => {
    const user = await makeUser(t);
    const before = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(limits(before).limit).toBe(String(HOURLY));
    const list = await t.request({ url: '/v1/workspaces', key: t.adminKey });
    const enterprise = list.body.data.find((w: { slug: string }) => w.slug === 'default');
    expect(enterprise.plan).toBe('enterprise');
    const added = await t.request({ method: 'POST', url: `/v1/workspaces/${enterprise.id}/members`, key: t.adminKey, body: { email: user.email, role: 'member' } });
    expect(added.status).toBe(201);
    const after = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(after.status).toBe(200);
    expect(limits(after).limit).toBe('1000000');
  });
});

describe('the burst cap', () => {
  let t: TestApp;
  beforeAll(async () => {
    // In memory: its last test moves the clock past the burst window, which Redis's own expiry
    // would not see (rate-limit-stores.test.ts checks the same counting in Redis).
    t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '100', SPRINTLANE_RATE_LIMIT_FREE_BURST: String(BURST), REDIS_URL: '', ...ENTERPRISE } });
    await liftAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('more than the burst in a minute is a 429 with Retry-After of at most a minute', async () => {
    const user = await makeUser(t);
    for (let i = 0; i < BURST; i++) expect((await t.request({ url: '/v1/api-keys/self', key: user.key })).status).toBe(200);
    const res = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('RATE_LIMITED');
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(limits(res).limit).toBe('100');
  });

  it('requests refused by the burst cap do not use hourly quota', async () => {
    const user = await makeUser(t);
    let last: Response | undefined;
    for (let i = 0; i < BURST; i++) last = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(limits(last!).remaining).toBe(String(100 - BURST));
    for (let i = 0; i < 5; i++) {
      const refused = await t.request({ url: '/v1/api-keys/self', key: user.key });
      expect(refused.status).toBe(429);
      expect(limits(refused).remaining).toBe(String(100 - BURST));
    }
    // A minute later the burst window has passed; the next request is the first to cost quota again.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    const next = await t.request({ url: '/v1/api-keys/self', key: user.key });
    expect(next.status).toBe(200);
    expect(limits(next).remaining).toBe(String(100 - BURST - 1));
  });
});

describe('switching limits off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false', SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '2', SPRINTLANE_RATE_LIMIT_FREE_BURST: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('SPRINTLANE_RATE_LIMIT=false never answers 429', async () => {
    const user = await makeUser(t);
    for (let i = 0; i < 10; i++) {
      const res = await t.request({ url: '/v1/api-keys/self', key: user.key });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 10; i++) expect((await t.request({ url: '/v1/workspaces', key: t.adminKey })).status).toBe(200);
  });
});

describe('operator overrides per workspace', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '1000', SPRINTLANE_RATE_LIMIT_FREE_BURST: '1000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("an instance administrator sets a workspace's limits over its plan's, effective on its keys' next request, and null restores the plan's", async () => {
    const owner = await makeUser(t);
    const ws = await t.request({ method: 'POST', url: '/v1/workspaces', key: owner.key, body: { name: 'Limited' } });
    expect(ws.status, ws.text).toBe(201);
    expect((await t.request({ url: '/v1/workspaces', key: owner.key })).headers['x-ratelimit-limit']).toBe('1000');
    const set = await t.request({ method: 'PUT', url: `/v1/admin/workspaces/${ws.body.data.id}/rate-limit`, key: t.adminKey, body: { hourly: 3, burst: null } });
    expect(set.status, set.text).toBe(200);
    expect(set.body.data).toEqual({ workspace_id: ws.body.data.id, plan: 'free', override: { hourly: 3, burst: null }, effective: { hourly: 3, burst: 1000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.request({ url: '/v1/workspaces', key: owner.key })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Its owner is no operator (and is limited now); neither is anyone else who is not an instance administrator.
    const other = await makeUser(t);
    expectError(await t.request({ method: 'PUT', url: `/v1/admin/workspaces/${ws.body.data.id}/rate-limit`, key: other.key, body: { hourly: 100000, burst: null } }), 403);
    expectError(await t.request({ method: 'PUT', url: '/v1/admin/workspaces/ws_nope/rate-limit', key: t.adminKey, body: { hourly: 1, burst: 1 } }), 404, 'NOT_FOUND');
    expectError(await t.request({ method: 'PUT', url: `/v1/admin/workspaces/${ws.body.data.id}/rate-limit`, key: t.adminKey, body: { hourly: 0, burst: 1 } }), 400, undefined, 'hourly');
    const reset = await t.request({ method: 'PUT', url: `/v1/admin/workspaces/${ws.body.data.id}/rate-limit`, key: t.adminKey, body: { hourly: null, burst: null } });
    expect(reset.body.data.effective).toEqual({ hourly: 1000, burst: 1000 });
    expect((await t.request({ url: '/v1/workspaces', key: owner.key })).headers['x-ratelimit-limit']).toBe('1000');
  });
});

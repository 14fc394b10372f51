// Authentication conventions: the four ways to present a key, one identical 401 for every bad
// credential, read-only keys, revocation, log redaction and the per-address failure limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeySecret } from '../../src/lib/crypto.ts';
import { movableClock } from '../clock.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { makeKey, makeTask, makeWorld, unique } from '../factories.ts';

const DAY_MS = 24 * 60 * 60 * 1000;


const clock = movableClock();
let t: TestApp;
let world: Awaited<ReturnType<typeof makeWorld>>;

beforeAll(async () => {
  // Failed-auth limiting is tested on its own app below; here it must not get in the way.
  t = await createTestApp({ clock, env: { LOG_LEVEL: 'debug', SPRINTLANE_AUTH_FAILURES_PER_MINUTE: '100000' } });
  world = await makeWorld(t);
});
afterAll(async () => {
  await t?.close();
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function selfWith(headers: Record<string, string>, query = '') {
  return t.request({ url: `/v1/api-keys/self${query}`, headers });
}

describe('the four ways to authenticate', () => {
  it('accepts the key as an Authorization: Bearer token', async () => {
    const res = await selfWith({ authorization: `Bearer ${world.owner.key}` });
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(world.owner.keyId);
  });

  it('accepts the key in a PRIVATE-TOKEN header', async () => {
    const res = await selfWith({ 'PRIVATE-TOKEN': world.owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(world.owner.keyId);
  });

  it('accepts the key as a private_token query parameter', async () => {
    const res = await selfWith({}, `?private_token=${encodeURIComponent(world.owner.key)}`);
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(world.owner.keyId);
  });

  it('accepts HTTP Basic with the key id as user and the secret as password', async () => {
    const res = await selfWith({ authorization: basic(world.owner.keyId, world.owner.key) });
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(world.owner.keyId);
  });

  it('refuses HTTP Basic when the user name is another key id', async () => {
    const other = await makeKey(t, world.owner);
    const res = await selfWith({ authorization: basic(other.id, world.owner.key) });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('refuses HTTP Basic with the right key id but a wrong secret', async () => {
    const other = await makeKey(t, world.owner);
    const res = await selfWith({ authorization: basic(world.owner.keyId, other.key) });
    expect(res.status).toBe(401);
  });

  it('refuses HTTP Basic with an unknown key id', async () => {
    const res = await selfWith({ authorization: basic('key_doesnotexist000', world.owner.key) });
    expect(res.status).toBe(401);
  });

  it('a key passed in a query parameter works on writes too', async () => {
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks?private_token=${encodeURIComponent(world.owner.key)}`,
      body: { title: 'via query token' },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.title).toBe('via query token');
  });
});

describe('SPRINTLANE_ALLOW_QUERY_TOKEN=false', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await createTestApp({ env: { SPRINTLANE_ALLOW_QUERY_TOKEN: 'false' } });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('refuses a key given as private_token with the same 401 as no key', async () => {
    const viaQuery = await strict.request({ url: `/v1/api-keys/self?private_token=${strict.adminKey}` });
    const none = await strict.request({ url: '/v1/api-keys/self' });
    expect(viaQuery.status).toBe(401);
    expect(viaQuery.text).toBe(none.text);
  });

  it('still accepts the same key in a header', async () => {
    const res = await strict.request({ url: '/v1/api-keys/self', headers: { 'private-token': strict.adminKey } });
    expect(res.status).toBe(200);
  });
});

describe('one identical 401 for every bad credential', () => {
  let reference: { status: number; text: string; type: string };
  beforeAll(async () => {
    const res = await t.request({ url: `/v1/projects/${world.project.id}` });
    reference = { status: res.status, text: res.text, type: String(res.headers['content-type']) };
  });

  async function expectSame401(label: string, opts: { headers?: Record<string, string>; query?: string }) {
    const res = await t.request({ url: `/v1/projects/${world.project.id}${opts.query ?? ''}`, headers: opts.headers });
    expect(res.status, label).toBe(401);
    expect(res.text, label).toBe(reference.text);
    expect(String(res.headers['content-type']), label).toBe(reference.type);
  }

  it('a request without any credential gets 401 UNAUTHORIZED in the error envelope', () => {
    expect(reference.status).toBe(401);
    const body = JSON.parse(reference.text);
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(typeof body.error.message).toBe('string');
  });

  it('malformed credentials get exactly the same 401 as a missing one', async () => {
    await expectSame401('empty bearer', { headers: { authorization: 'Bearer ' } });
    await expectSame401('unknown scheme', { headers: { authorization: `Token ${world.owner.key}` } });
    await expectSame401('scheme only', { headers: { authorization: 'Bearer' } });
    await expectSame401('garbage basic', { headers: { authorization: 'Basic !!!not-base64!!!' } });
    await expectSame401('basic without colon', { headers: { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` } });
    await expectSame401('truncated key', { headers: { authorization: `Bearer ${world.owner.key.slice(0, -1)}` } });
    await expectSame401('sql-looking key', { headers: { authorization: "Bearer ' or 1=1 --" } });
    await expectSame401('short private token', { headers: { 'private-token': 'abc' } });
  });

  it('an unknown key gets exactly the same 401 as a missing one', async () => {
    // Same shape as the bootstrap token, so it passes every cheap check and reaches the database.
    await expectSame401('unknown bearer', { headers: { authorization: `Bearer unknown_${'a'.repeat(40)}` } });
    await expectSame401('unknown private token', { headers: { 'private-token': `unknown_${'b'.repeat(40)}` } });
    await expectSame401('unknown query token', { query: `?private_token=unknown_${'c'.repeat(40)}` });
    // A well-formed slk_ key (right prefix and checksum) that was never issued.
    await expectSame401('never-issued slk_ key', { headers: { authorization: `Bearer ${generateKeySecret()}` } });
  });

  it('an expired key gets exactly the same 401 as a missing one', async () => {
    const key = await makeKey(t, world.owner, { expires_in_days: 1 });
    const before = await t.request({ url: `/v1/projects/${world.project.id}`, key: key.key });
    expect(before.status).toBe(200);
    clock.advance(DAY_MS + 60_000);
    try {
      await expectSame401('expired bearer', { headers: { authorization: `Bearer ${key.key}` } });
      await expectSame401('expired basic', { headers: { authorization: basic(key.id, key.key) } });
      await expectSame401('expired private token', { headers: { 'private-token': key.key } });
      // Other keys are unaffected by the clock move.
      const fresh = await t.request({ url: `/v1/projects/${world.project.id}`, key: world.owner.key });
      expect(fresh.status).toBe(200);
    } finally {
      clock.reset();
    }
  });

  it('a key given a near expires_at stops working once that moment passes', async () => {
    const expiresAt = new Date(clock.now().getTime() + 10 * 60_000).toISOString();
    const key = await makeKey(t, world.owner, { expires_at: expiresAt });
    expect((await t.request({ url: '/v1/api-keys/self', key: key.key })).status).toBe(200);
    clock.advance(11 * 60_000);
    try {
      await expectSame401('past expires_at', { headers: { authorization: `Bearer ${key.key}` } });
    } finally {
      clock.reset();
    }
  });

  it('a revoked key gets exactly the same 401 as a missing one', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/api-keys', key: world.owner.key, body: { name: unique('to-revoke') } });
    expect(created.status).toBe(201);
    const { id, secret } = created.body.data;
    expect((await t.request({ url: `/v1/projects/${world.project.id}`, key: secret })).status).toBe(200);
    const revoked = await t.request({ method: 'DELETE', url: `/v1/api-keys/${id}`, key: world.owner.key });
    expect(revoked.status).toBe(200);
    await expectSame401('revoked bearer', { headers: { authorization: `Bearer ${secret}` } });
    await expectSame401('revoked basic', { headers: { authorization: basic(id, secret) } });
  });
});

describe('revocation', () => {
  it('a key revoked by itself is refused on the very next request', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/api-keys', key: world.owner.key, body: { name: unique('self-revoke') } });
    const { id, secret } = created.body.data;
    // Warm every cache the server may keep for this key.
    for (let i = 0; i < 3; i++) expect((await t.request({ url: '/v1/api-keys/self', key: secret })).status).toBe(200);
    const res = await t.request({ method: 'DELETE', url: `/v1/api-keys/${id}`, key: secret });
    expect(res.status).toBe(200);
    const next = await t.request({ url: '/v1/api-keys/self', key: secret });
    expect(next.status).toBe(401);
  });

  it('a revoked key is listed with revoked_at and other keys keep working', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/api-keys', key: world.owner.key, body: { name: unique('listed') } });
    const { id, secret } = created.body.data;
    expect((await t.request({ method: 'DELETE', url: `/v1/api-keys/${id}`, key: world.owner.key })).status).toBe(200);
    expect((await t.request({ url: '/v1/api-keys/self', key: secret })).status).toBe(401);
    const list = await t.request({ url: '/v1/api-keys?per_page=100', key: world.owner.key });
    expect(list.status).toBe(200);
    const entry = list.body.data.find((k: { id: string }) => k.id === id);
    expect(entry.revoked_at).toMatch(/Z$/);
  });
});

describe('read-only keys', () => {
  let reader: { id: string; key: string };
  let task: any;
  beforeAll(async () => {
    reader = await makeKey(t, world.owner, { scopes: ['read'] });
    task = await makeTask(t, world.owner, world.project.id, { title: 'untouchable' });
  });

  it('a read-only key can read', async () => {
    expect((await t.request({ url: `/v1/tasks/${task.id}`, key: reader.key })).status).toBe(200);
    expect((await t.request({ url: `/v1/projects/${world.project.id}/tasks`, key: reader.key })).status).toBe(200);
    expect((await t.request({ url: '/v1/api-keys/self', key: reader.key })).body.data.scopes).toEqual(['read']);
  });

  it('a read-only key cannot create, update, move or delete anything (403 INSUFFICIENT_SCOPE, nothing changes)', async () => {
    const ws = world.workspace.id;
    const attempts: Array<{ method: string; url: string; body?: unknown }> = [
      { method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, body: { title: 'nope' } },
      { method: 'PUT', url: `/v1/tasks/${task.id}`, body: { title: 'changed' } },
      { method: 'PATCH', url: `/v1/tasks/${task.id}`, body: { title: 'changed' } },
      { method: 'PATCH', url: `/v1/tasks/${task.id}/move`, body: { status: 'done' } },
      { method: 'DELETE', url: `/v1/tasks/${task.id}` },
      { method: 'POST', url: '/v1/workspaces', body: { name: 'nope' } },
      { method: 'PATCH', url: `/v1/workspaces/${ws}`, body: { name: 'changed' } },
      { method: 'PUT', url: `/v1/workspaces/${ws}`, body: { name: 'changed' } },
      { method: 'POST', url: `/v1/workspaces/${ws}/projects`, body: { name: 'nope' } },
      { method: 'PATCH', url: `/v1/projects/${world.project.id}`, body: { name: 'changed' } },
      { method: 'PUT', url: `/v1/projects/${world.project.id}`, body: { name: 'changed' } },
      { method: 'DELETE', url: `/v1/projects/${world.project.id}` },
      { method: 'POST', url: `/v1/workspaces/${ws}/members`, body: { email: `${unique('m')}@example.test`, role: 'member' } },
      { method: 'POST', url: '/v1/api-keys', body: { name: 'nope', scopes: ['read'] } },
      { method: 'DELETE', url: `/v1/api-keys/${reader.id}` },
    ];
    for (const a of attempts) {
      const res = await t.request({ ...a, key: reader.key });
      expect(res.status, `${a.method} ${a.url}`).toBe(403);
      expect(res.body.error.code, `${a.method} ${a.url}`).toBe('INSUFFICIENT_SCOPE');
    }
    const after = await t.request({ url: `/v1/tasks/${task.id}`, key: world.owner.key });
    expect(after.body.data).toEqual(task);
    const project = await t.request({ url: `/v1/projects/${world.project.id}`, key: world.owner.key });
    expect(project.body.data.name).toBe(world.project.name);
    const tasks = await t.request({ url: `/v1/projects/${world.project.id}/tasks?per_page=100`, key: world.owner.key });
    expect(tasks.body.data.some((x: { title: string }) => x.title === 'nope')).toBe(false);
    expect((await t.request({ url: '/v1/api-keys/self', key: reader.key })).status).toBe(200);
  });

  it('a read-only key gets 403 on every write route of the OpenAPI document', async () => {
    const doc = (await t.request({ url: '/openapi.json' })).body as { paths: Record<string, Record<string, unknown>> };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        const url = path.replace(/\{[^}]+\}/g, 'whatever_id');
        const res = await t.request({ method: method.toUpperCase(), url, key: reader.key, body: {} });
        expect(res.status, `${method.toUpperCase()} ${path}`).toBe(403);
        expect(res.body.error.code, `${method.toUpperCase()} ${path}`).toBe('INSUFFICIENT_SCOPE');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('keys never leak', () => {
  it('a private_token never appears in the logs, even at debug level', async () => {
    const before = t.logs.length;
    const res = await t.request({ url: `/v1/projects/${world.project.id}/tasks?private_token=${world.owner.key}&per_page=1` });
    expect(res.status).toBe(200);
    const unknown = `unknown_${'z'.repeat(40)}`;
    expect((await t.request({ url: `/v1/tasks?private_token=${unknown}` })).status).toBe(401);
    const lines = t.logs.slice(before).join('');
    // The request was logged (so this test can see a leak), with its token masked.
    expect(lines).toContain(`/v1/projects/${world.project.id}/tasks`);
    expect(lines).not.toContain(world.owner.key);
    expect(lines).not.toContain(unknown);
    expect(t.logs.join('')).not.toContain(world.owner.key);
  });

  it('header credentials never appear in the logs', async () => {
    const key = await makeKey(t, world.owner);
    const before = t.logs.length;
    await t.request({ url: '/v1/api-keys/self', key: key.key });
    await t.request({ url: '/v1/api-keys/self', headers: { 'private-token': key.key } });
    await t.request({ url: '/v1/api-keys/self', headers: { authorization: basic(key.id, key.key) } });
    const lines = t.logs.slice(before).join('');
    expect(lines).toContain('/v1/api-keys/self');
    expect(lines).not.toContain(key.key);
    expect(lines).not.toContain(Buffer.from(`${key.id}:${key.key}`).toString('base64'));
  });

  it('a private_token is never echoed into the Link header, which keeps the other parameters', async () => {
    for (let i = 0; i < 3; i++) await makeTask(t, world.owner, world.project.id, { priority: 'high' });
    const res = await t.request({ url: `/v1/projects/${world.project.id}/tasks?private_token=${world.owner.key}&per_page=1&priority=high` });
    expect(res.status).toBe(200);
    const link = String(res.headers.link);
    expect(link).toContain('rel="next"');
    expect(link).toContain('priority=high');
    expect(link).not.toContain(world.owner.key);
    expect(link).not.toContain('private_token');
  });
});

describe('failed authentication is limited per client address', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ env: { SPRINTLANE_AUTH_FAILURES_PER_MINUTE: '5' } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  const inject = (remoteAddress: string, authorization: string) =>
    limited.app.inject({ method: 'GET', url: '/v1/api-keys/self', remoteAddress, headers: { authorization } });

  it('repeated failures from one address end in 429 with Retry-After, while other addresses are unaffected', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 12; i++) {
      last = await inject('10.20.30.40', `Bearer wrong_${'x'.repeat(40)}${i}`);
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect(last!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(Number(last!.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(JSON.parse(last!.body).error.code).toMatch(/^[A-Z_]+$/);
    expect(last!.headers['x-request-id']).toBeTruthy();

    const elsewhere = await inject('10.20.30.41', `Bearer ${limited.adminKey}`);
    expect(elsewhere.statusCode).toBe(200);
  });
});

describe('SPRINTLANE_REQUIRE_HTTPS=true', () => {
  let secure: TestApp;
  beforeAll(async () => {
    secure = await createTestApp({ env: { SPRINTLANE_REQUIRE_HTTPS: 'true', SPRINTLANE_TRUSTED_PROXIES: '10.0.0.9' } });
  });
  afterAll(async () => {
    await secure?.close();
  });

  const inject = (remoteAddress: string, headers: Record<string, string> = {}) =>
    secure.app.inject({ method: 'GET', url: '/v1/api-keys/self', remoteAddress, headers: { authorization: `Bearer ${secure.adminKey}`, ...headers } });

  it('plain HTTP from a remote address is refused with 403 HTTPS_REQUIRED, even with a valid key', async () => {
    const res = await inject('203.0.113.7');
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('HTTPS_REQUIRED');
  });

  it('a remote client cannot claim https itself; only a trusted proxy can', async () => {
    expect((await inject('203.0.113.7', { 'x-forwarded-proto': 'https' })).statusCode).toBe(403);
    expect((await inject('10.0.0.9', { 'x-forwarded-proto': 'https' })).statusCode).toBe(200);
    expect((await inject('10.0.0.9', { 'x-forwarded-proto': 'http' })).statusCode).toBe(403);
  });

  it('plain HTTP from loopback is allowed', async () => {
    expect((await inject('127.0.0.1')).statusCode).toBe(200);
    expect((await inject('::1')).statusCode).toBe(200);
  });
});

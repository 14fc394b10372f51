// Conventions every endpoint shares: request ids, 404/405, body limits and content types, form
// bodies with bracket notation, the public system endpoints and idempotent DELETE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { makeTask, makeWorld, unique } from './factories.ts';

let t: TestApp;
let world: Awaited<ReturnType<typeof makeWorld>>;

beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  world = await makeWorld(t);
});
afterAll(async () => {
  await t?.close();
});

async function taskTotal(): Promise<number> {
  const res = await t.request({ url: `/v1/projects/${world.project.id}/tasks?per_page=1`, key: world.owner.key });
  return res.body.meta.total;
}

function expectEnvelope(body: any, code?: string) {
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  expect(typeof body.error.message).toBe('string');
  if (code) expect(body.error.code).toBe(code);
}

describe('X-Request-Id', () => {
  it('a valid incoming X-Request-Id is echoed on every kind of response', async () => {
    const cases: Array<[number, Parameters<TestApp['request']>[0]]> = [
      [200, { url: '/v1/api-keys/self', key: world.owner.key }],
      [200, { url: '/healthz' }],
      [401, { url: '/v1/api-keys/self' }],
      [404, { url: '/v1/tasks/task_missing', key: world.owner.key }],
      [404, { url: '/no/such/route' }],
      [405, { method: 'DELETE', url: '/v1/workspaces' }],
      [400, { url: '/v1/tasks?sort=nope', key: world.owner.key }],
    ];
    for (const [status, req] of cases) {
      const id = `client-${unique('rid')}`;
      const res = await t.request({ ...req, headers: { 'x-request-id': id } });
      expect(res.status, req.url).toBe(status);
      expect(res.headers['x-request-id'], req.url).toBe(id);
    }
  });

  it('without an X-Request-Id, or with an unusable one, the server makes one up', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/v1/api-keys/self' });
    expect(none.statusCode).toBe(401);
    expect(String(none.headers['x-request-id'])).toMatch(/^[A-Za-z0-9._-]{8,64}$/);
    const other = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(other.headers['x-request-id']).not.toBe(none.headers['x-request-id']);
    for (const bad of ['has spaces in it', 'x'.repeat(65), '<script>']) {
      const res = await t.request({ url: '/healthz', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.headers['x-request-id']).not.toBe(bad);
    }
  });
});

describe('unknown routes and wrong methods', () => {
  it('an unknown route is a 404 in the error envelope', async () => {
    for (const url of ['/v1/nothing-here', '/v2/tasks', '/']) {
      const res = await t.request({ url, key: world.owner.key });
      expect(res.status, url).toBe(404);
      expectEnvelope(res.body);
    }
  });

  it('a known path with the wrong method is a 405 with an Allow header', async () => {
    const cases: Array<[string, string, string[]]> = [
      ['DELETE', '/v1/workspaces', ['GET', 'POST']],
      ['POST', `/v1/tasks/${'task_x'}`, ['DELETE', 'GET', 'PATCH', 'PUT']],
      ['GET', '/v1/tasks/task_x/move', ['PATCH']],
      ['PUT', '/current-version', ['GET']],
      ['POST', '/healthz', ['GET']],
    ];
    for (const [method, url, allowed] of cases) {
      const res = await t.request({ method, url, key: world.owner.key });
      expect(res.status, `${method} ${url}`).toBe(405);
      expectEnvelope(res.body, 'METHOD_NOT_ALLOWED');
      const allow = String(res.headers.allow).split(',').map((m) => m.trim());
      for (const m of allowed) expect(allow, `${method} ${url}`).toContain(m);
      expect(allow, `${method} ${url}`).not.toContain(method);
    }
  });
});

describe('request bodies', () => {
  it('a body over 1 MiB is a 413 and nothing is created', async () => {
    const before = await taskTotal();
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks`,
      key: world.owner.key,
      body: { title: 'huge', description: 'x'.repeat(1024 * 1024 + 10) },
    });
    expect(res.status).toBe(413);
    expectEnvelope(res.body);
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(await taskTotal()).toBe(before);
  });

  /** A task body whose nesting is `levels` containers deep: the object plus levels-1 arrays. */
  const nestedBody = (levels: number) => `{"title":"deep","labels":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

  it('JSON nested deeper than 32 levels is a 400 naming the limit, however deep', async () => {
    const before = await taskTotal();
    for (const levels of [33, 34, 100, 10_000]) {
      const res = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, body: nestedBody(levels) });
      expect(res.status, `${levels} levels`).toBe(400);
      expectEnvelope(res.body);
      expect(res.body.error.message, `${levels} levels`).toMatch(/32/);
    }
    expect(await taskTotal()).toBe(before);
  });

  it('a key given twice in one object is a 400 DUPLICATE_KEY naming it, at any depth, and nothing is created', async () => {
    const before = await taskTotal();
    for (const [body, key] of [
      ['{"title":"first","title":"second"}', 'title'],
      ['{"title":"x", "description":"a" ,  "description" : "b"}', 'description'],
      ['{"title":"x","labels":[],"\\u0074itle":"escaped"}', 'title'],
    ] as const) {
      const res = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, body });
      expect(res.status, body).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'DUPLICATE_KEY', param: key });
    }
    const nested = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks/batch`, key: world.owner.key, body: '{"tasks":[{"title":"a","title":"b"}]}' });
    expect(nested.body.error).toMatchObject({ code: 'DUPLICATE_KEY', param: 'title' });
    expect(await taskTotal()).toBe(before);
    // The same key in two objects, or as a value, is no duplicate.
    const fine = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks/batch`, key: world.owner.key, body: '{"tasks":[{"title":"title"},{"title":"b","description":"title"}]}' });
    expect(fine.status, fine.text).toBe(201);
  });

  it('JSON nested exactly 32 levels is not refused for its depth', async () => {
    const res = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, body: nestedBody(32) });
    // The shape is still wrong for labels, so it is a 400, but one that names the field, not the depth.
    expect(res.status).toBe(400);
    expect(res.body.error.message).not.toMatch(/32|deep/);
    expect(res.body.error.param).toMatch(/^labels/);
  });

  it('malformed JSON is a 400 in the envelope', async () => {
    const res = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, body: '{"title": "oops",' });
    expect(res.status).toBe(400);
    expectEnvelope(res.body);
  });

  it('an unsupported content type is a 415 and nothing is created', async () => {
    const before = await taskTotal();
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/projects/${world.project.id}/tasks`,
        key: world.owner.key,
        body: '{"title":"typed"}',
        headers: { 'content-type': type },
      });
      expect(res.status, type).toBe(415);
      expectEnvelope(res.body);
      expect(res.headers['x-request-id'], type).toBeTruthy();
    }
    expect(await taskTotal()).toBe(before);
  });

  it('application/json with a charset is accepted', async () => {
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks`,
      key: world.owner.key,
      body: { title: 'charset' },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(201);
  });
});

describe('form-encoded bodies', () => {
  it('a task can be created from a form body with labels[]= bracket notation', async () => {
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks`,
      key: world.owner.key,
      form: true,
      body: 'title=Form+task&priority=high&labels[]=a&labels[]=b&estimated_minutes=90&due_date=2026-12-24',
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ title: 'Form task', priority: 'high', labels: ['a', 'b'], estimated_minutes: 90, due_date: '2026-12-24' });
    const stored = await t.request({ url: `/v1/tasks/${res.body.data.id}`, key: world.owner.key });
    expect(stored.body.data.labels).toEqual(['a', 'b']);
  });

  it('percent-encoded brackets work as well', async () => {
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${world.project.id}/tasks`,
      key: world.owner.key,
      form: true,
      body: 'title=Encoded&labels%5B%5D=x&labels%5B%5D=y',
    });
    expect(res.status).toBe(201);
    expect(res.body.data.labels).toEqual(['x', 'y']);
  });

  it('a task can be updated with PUT and PATCH from a form body', async () => {
    const task = await makeTask(t, world.owner, world.project.id, { labels: ['old'] });
    const patched = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: world.owner.key, form: true, body: 'labels[]=c&labels[]=d&title=Patched' });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ title: 'Patched', labels: ['c', 'd'] });
    const put = await t.request({ method: 'PUT', url: `/v1/tasks/${task.id}`, key: world.owner.key, form: true, body: 'labels[]=e&estimated_minutes=15' });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ title: 'Patched', labels: ['e'], estimated_minutes: 15 });
    const stored = await t.request({ url: `/v1/tasks/${task.id}`, key: world.owner.key });
    expect(stored.body.data.labels).toEqual(['e']);
  });

  it('a form body is validated like a JSON one', async () => {
    const res = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, form: true, body: 'title=Bad&priority=extreme' });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('priority');
    const unknown = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, form: true, body: 'title=Bad&colour=red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('colour');
    const notNumber = await t.request({ method: 'POST', url: `/v1/projects/${world.project.id}/tasks`, key: world.owner.key, form: true, body: 'title=Bad&estimated_minutes=lots' });
    expect(notNumber.status).toBe(400);
    expect(notNumber.body.error.param).toBe('estimated_minutes');
  });

  it('other resources accept form bodies too', async () => {
    const res = await t.request({ method: 'POST', url: '/v1/workspaces', key: world.owner.key, form: true, body: { name: unique('Form workspace ') } });
    expect(res.status).toBe(201);
    expect(res.body.data.name).toMatch(/^Form workspace /);
    const project = await t.request({ method: 'POST', url: `/v1/workspaces/${res.body.data.id}/projects`, key: world.owner.key, form: true, body: { name: 'Form project', description: 'made by a form' } });
    expect(project.status).toBe(201);
    expect(project.body.data.description).toBe('made by a form');
  });
});

describe('public system endpoints', () => {
  it('GET /current-version answers {"version": semver} without a key', async () => {
    const res = await t.request({ url: '/current-version' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['version']);
    expect(res.body.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it('/healthz and /readyz answer 200 without a key', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const res = await t.request({ url });
      expect(res.status, url).toBe(200);
      expect(res.body.status, url).toBe('ok');
    }
  });

  it('/metrics serves Prometheus text without a key', async () => {
    await t.request({ url: '/v1/api-keys/self', key: world.owner.key });
    const res = await t.request({ url: '/metrics' });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP /m);
    expect(res.text).toMatch(/^# TYPE \w+ (counter|gauge|histogram|summary)$/m);
    expect(res.text).toContain('sprintlane_http_requests_total{');
  });

  it('/openapi.json serves an OpenAPI 3.1 document without a key', async () => {
    const res = await t.request({ url: '/openapi.json' });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/json/);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.paths['/v1/tasks/{id}']).toBeDefined();
    expect(res.body.paths['/v1/projects/{id}/tasks'].post).toBeDefined();
  });

  it('/docs serves an HTML page without a key', async () => {
    const res = await t.request({ url: '/docs' });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
    expect(res.text).toMatch(/<html/i);
  });

  it('a protected endpoint next to them still needs a key', async () => {
    const res = await t.request({ url: '/v1/workspaces' });
    expect(res.status).toBe(401);
  });
});

describe('idempotent DELETE', () => {
  it('deleting a task twice answers 200 both times, and the task is gone', async () => {
    const task = await makeTask(t, world.owner, world.project.id);
    const first = await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: world.owner.key });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ id: task.id, deleted: true });
    const second = await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: world.owner.key });
    expect(second.status).toBe(200);
    expect(second.body.data).toEqual({ id: task.id, deleted: true });
    expect((await t.request({ url: `/v1/tasks/${task.id}`, key: world.owner.key })).status).toBe(404);
  });

  it('deleting a task that never existed answers 200', async () => {
    const res = await t.request({ method: 'DELETE', url: '/v1/tasks/task_neverexisted', key: world.owner.key });
    expect(res.status).toBe(200);
  });

  it('deleting a project twice answers 200 both times', async () => {
    const created = await t.request({ method: 'POST', url: `/v1/workspaces/${world.workspace.id}/projects`, key: world.owner.key, body: { name: unique('Doomed ') } });
    const id = created.body.data.id;
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${id}`, key: world.owner.key })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${id}`, key: world.owner.key })).status).toBe(200);
    expect((await t.request({ url: `/v1/projects/${id}`, key: world.owner.key })).status).toBe(404);
  });

  it('deleting another workspace\'s task answers like a missing one and leaves it alone', async () => {
    const other = await makeWorld(t);
    const task = await makeTask(t, other.owner, other.project.id);
    const res = await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: world.owner.key });
    expect(res.status).toBe(200);
    expect((await t.request({ url: `/v1/tasks/${task.id}`, key: other.owner.key })).status).toBe(200);
  });
});

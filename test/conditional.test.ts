// Conditional requests: ETag on every GET, If-None-Match gives 304, If-Match gives 412 when the
// resource changed and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { makeProject, makeTask, makeWorld, type Actor } from './factories.ts';

let t: TestApp;
let owner: Actor;
let workspace: any;
let project: any;

beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  ({ owner, workspace, project } = await makeWorld(t));
});
afterAll(async () => {
  await t?.close();
});

async function get(url: string, headers: Record<string, string> = {}) {
  return t.request({ url, key: owner.key, headers });
}

async function etagOf(url: string): Promise<string> {
  const res = await get(url);
  expect(res.status, url).toBe(200);
  const etag = res.headers.etag;
  expect(typeof etag, url).toBe('string');
  return etag as string;
}

describe('ETag and If-None-Match', () => {
  it('every GET of a resource or a list carries an ETag', async () => {
    const task = await makeTask(t, owner, project.id);
    const urls = [
      `/v1/tasks/${task.id}`,
      `/v1/tasks/${task.id}?include=comments`,
      `/v1/projects/${project.id}`,
      `/v1/workspaces/${workspace.id}`,
      '/v1/workspaces',
      `/v1/workspaces/${workspace.id}/projects`,
      `/v1/workspaces/${workspace.id}/members`,
      `/v1/projects/${project.id}/tasks`,
      '/v1/tasks',
      '/v1/api-keys',
      '/v1/api-keys/self',
    ];
    for (const url of urls) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(String(res.headers.etag), url).toMatch(/^(W\/)?"[^"]+"$/);
    }
  });

  it('the same unchanged resource keeps the same ETag', async () => {
    const task = await makeTask(t, owner, project.id);
    expect(await etagOf(`/v1/tasks/${task.id}`)).toBe(await etagOf(`/v1/tasks/${task.id}`));
  });

  it('If-None-Match with the current ETag answers 304 with an empty body', async () => {
    const task = await makeTask(t, owner, project.id);
    for (const url of [`/v1/tasks/${task.id}`, `/v1/projects/${project.id}`, `/v1/workspaces/${workspace.id}`, `/v1/projects/${project.id}/tasks`, '/v1/workspaces']) {
      const etag = await etagOf(url);
      const res = await get(url, { 'if-none-match': etag });
      expect(res.status, url).toBe(304);
      expect(res.text, url).toBe('');
      expect(res.headers.etag, url).toBe(etag);
    }
  });

  it('If-None-Match matches a weak form of the tag and any tag in a list', async () => {
    const task = await makeTask(t, owner, project.id);
    const url = `/v1/tasks/${task.id}`;
    const etag = await etagOf(url);
    expect((await get(url, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await get(url, { 'if-none-match': `"other", ${etag}` })).status).toBe(304);
    expect((await get(url, { 'if-none-match': '*' })).status).toBe(304);
  });

  it('If-None-Match with an old ETag answers 200 with the new representation and a new ETag', async () => {
    const task = await makeTask(t, owner, project.id);
    const url = `/v1/tasks/${task.id}`;
    const old = await etagOf(url);
    expect((await t.request({ method: 'PATCH', url, key: owner.key, body: { title: 'renamed' } })).status).toBe(200);
    const res = await get(url, { 'if-none-match': old });
    expect(res.status).toBe(200);
    expect(res.body.data.title).toBe('renamed');
    expect(res.headers.etag).not.toBe(old);
  });

  it('a list ETag changes when the list changes', async () => {
    const p = await makeProject(t, owner, workspace.id);
    const url = `/v1/projects/${p.id}/tasks`;
    const before = await etagOf(url);
    await makeTask(t, owner, p.id);
    const res = await get(url, { 'if-none-match': before });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.headers.etag).not.toBe(before);
  });

  it('the ETag of a write response is the one a later GET gives', async () => {
    const task = await makeTask(t, owner, project.id);
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { priority: 'urgent' } });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe(await etagOf(`/v1/tasks/${task.id}`));
  });
});

describe('If-Match', () => {
  type Write = { name: string; method: string; path: (id: string) => string; body?: Record<string, unknown> };
  const taskWrites: Write[] = [
    { name: 'PUT', method: 'PUT', path: (id) => `/v1/tasks/${id}`, body: { title: 'put change' } },
    { name: 'PATCH', method: 'PATCH', path: (id) => `/v1/tasks/${id}`, body: { title: 'patch change' } },
    { name: 'move', method: 'PATCH', path: (id) => `/v1/tasks/${id}/move`, body: { status: 'done' } },
    { name: 'DELETE', method: 'DELETE', path: (id) => `/v1/tasks/${id}` },
  ];

  /** A task whose ETag the caller read, then someone else changed it. */
  async function staleTask() {
    const task = await makeTask(t, owner, project.id, { title: 'original' });
    const stale = await etagOf(`/v1/tasks/${task.id}`);
    const changed = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { description: 'changed by someone else' } });
    expect(changed.status).toBe(200);
    const current = await get(`/v1/tasks/${task.id}`);
    return { task, stale, current: current.body.data, currentTag: current.headers.etag as string };
  }

  for (const w of taskWrites) {
    it(`${w.name} of a task with a stale If-Match is a 412 and changes nothing`, async () => {
      const { task, stale, current, currentTag } = await staleTask();
      const res = await t.request({ method: w.method, url: w.path(task.id), key: owner.key, body: w.body, headers: { 'if-match': stale } });
      expect(res.status).toBe(412);
      expect(res.body.error.code).toBe('PRECONDITION_FAILED');
      const after = await get(`/v1/tasks/${task.id}`);
      expect(after.status).toBe(200);
      expect(after.body.data).toEqual(current);
      expect(after.headers.etag).toBe(currentTag);
    });

    it(`${w.name} of a task with the current ETag in If-Match succeeds`, async () => {
      const { task, currentTag } = await staleTask();
      const res = await t.request({ method: w.method, url: w.path(task.id), key: owner.key, body: w.body, headers: { 'if-match': currentTag } });
      expect(res.status).toBe(200);
      const after = await get(`/v1/tasks/${task.id}`);
      if (w.method === 'DELETE') expect(after.status).toBe(404);
      else {
        expect(after.body.data).toMatchObject(w.name === 'move' ? { status: 'done' } : { title: w.body!.title });
        expect(after.headers.etag).not.toBe(currentTag);
      }
    });

    it(`${w.name} of a task with If-Match: * succeeds whatever the version`, async () => {
      const { task } = await staleTask();
      const res = await t.request({ method: w.method, url: w.path(task.id), key: owner.key, body: w.body, headers: { 'if-match': '*' } });
      expect(res.status).toBe(200);
    });
  }

  it('If-Match succeeds when any tag of a list is current', async () => {
    const { task, stale, currentTag } = await staleTask();
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'listed' }, headers: { 'if-match': `${stale}, ${currentTag}` } });
    expect(res.status).toBe(200);
  });

  it('a weak ETag never satisfies If-Match (strong comparison)', async () => {
    const task = await makeTask(t, owner, project.id);
    const tag = await etagOf(`/v1/tasks/${task.id}`);
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'weak' }, headers: { 'if-match': `W/${tag}` } });
    expect(res.status).toBe(412);
    expect((await get(`/v1/tasks/${task.id}`)).body.data.title).toBe(task.title);
  });

  it('the ETag returned by a write can be used for the next conditional write', async () => {
    const task = await makeTask(t, owner, project.id);
    const first = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'one' }, headers: { 'if-match': await etagOf(`/v1/tasks/${task.id}`) } });
    expect(first.status).toBe(200);
    const second = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'two' }, headers: { 'if-match': first.headers.etag as string } });
    expect(second.status).toBe(200);
    const replayOld = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'three' }, headers: { 'if-match': first.headers.etag as string } });
    expect(replayOld.status).toBe(412);
    expect((await get(`/v1/tasks/${task.id}`)).body.data.title).toBe('two');
  });

  it('a stale If-Match on a project PUT, PATCH or DELETE is a 412 and changes nothing', async () => {
    const p = await makeProject(t, owner, workspace.id, { name: 'Conditional project' });
    const url = `/v1/projects/${p.id}`;
    const stale = await etagOf(url);
    expect((await t.request({ method: 'PATCH', url, key: owner.key, body: { description: 'moved on' } })).status).toBe(200);
    const current = (await get(url)).body.data;
    for (const [method, body] of [['PUT', { name: 'Renamed by PUT' }], ['PATCH', { name: 'Renamed by PATCH' }], ['DELETE', undefined]] as const) {
      const res = await t.request({ method, url, key: owner.key, body, headers: { 'if-match': stale } });
      expect(res.status, method).toBe(412);
      expect(res.body.error.code, method).toBe('PRECONDITION_FAILED');
    }
    const after = await get(url);
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual(current);
    const ok = await t.request({ method: 'DELETE', url, key: owner.key, headers: { 'if-match': after.headers.etag as string } });
    expect(ok.status).toBe(200);
    expect((await get(url)).status).toBe(404);
  });

  it('a stale If-Match on a workspace PUT or PATCH is a 412 and changes nothing', async () => {
    const url = `/v1/workspaces/${workspace.id}`;
    const stale = await etagOf(url);
    expect((await t.request({ method: 'PATCH', url, key: owner.key, body: { time_zone: 'Europe/Berlin' } })).status).toBe(200);
    const current = (await get(url)).body.data;
    for (const method of ['PUT', 'PATCH']) {
      const res = await t.request({ method, url, key: owner.key, body: { name: `Changed by ${method}` }, headers: { 'if-match': stale } });
      expect(res.status, method).toBe(412);
    }
    expect((await get(url)).body.data).toEqual(current);
    const ok = await t.request({ method: 'PATCH', url, key: owner.key, body: { name: 'Changed for real' }, headers: { 'if-match': await etagOf(url) } });
    expect(ok.status).toBe(200);
    expect((await get(url)).body.data.name).toBe('Changed for real');
  });

  it('without If-Match a write is unconditional', async () => {
    const { task } = await staleTask();
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${task.id}`, key: owner.key, body: { title: 'blind write' } });
    expect(res.status).toBe(200);
    expect(res.body.data.title).toBe('blind write');
  });
});

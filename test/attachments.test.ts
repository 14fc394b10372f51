// Attachments: multipart uploads kept under the data directory, refused when too large or not
// what their type says, downloaded only with access to their task, and gone with it.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, fingerprint } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { addMember, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

let t: TestApp;
const LIMIT = 64 * 1024;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false', SPRINTLANE_MAX_UPLOAD_BYTES: String(LIMIT) } });
});
afterAll(async () => {
  await t?.close();
});

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]);

function multipart(parts: Array<{ name: string; filename?: string; type?: string; content: Buffer | string }>) {
  const boundary = '----sprintlane-test-boundary';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function upload(by: Actor, taskId: string, file: { filename?: string; type?: string; content: Buffer | string; name?: string }) {
  const body = multipart([{ name: file.name ?? 'file', filename: file.filename ?? 'file.bin', type: file.type, content: file.content }]);
  const res = await t.app.inject({ method: 'POST', url: `/v1/tasks/${taskId}/attachments`, headers: { authorization: `Bearer ${by.key}`, 'content-type': body.contentType }, payload: body.payload });
  return { status: res.statusCode, headers: res.headers, body: res.json(), text: res.body };
}

function download(by: Actor, id: string, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'GET', url: `/v1/attachments/${id}/content`, headers: { authorization: `Bearer ${by.key}`, ...headers } });
}

const storeDir = () => path.join(t.deps.config.dataDir, 'attachments');

/** Whether a file goes within a second: files are removed once their row's deletion has committed. */
async function gone(file: string): Promise<boolean> {
  for (let i = 0; i < 100 && existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
  return !existsSync(file);
}

describe('attachments', () => {
  it('stores an upload, lists and describes it, and serves its bytes as a download with its type and hash', async () => {
    const { owner, project, workspace } = await makeWorld(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const task = await makeTask(t, owner, project.id);
    const res = await upload(owner, task.id, { filename: '../../etc/Screen shot ✓.png', type: 'image/png', content: PNG });
    expect(res.status, res.text).toBe(201);
    const a = res.body.data;
    expect(a).toMatchObject({ task_id: task.id, uploaded_by: owner.userId, filename: 'Screen shot ✓.png', content_type: 'image/png', size_bytes: PNG.length, download_url: `/v1/attachments/${a.id}/content` });
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(path.join(storeDir(), a.id))).toBe(true);
    const listed = await t.request({ url: `/v1/tasks/${task.id}/attachments`, key: viewer.key });
    expect(listed.body.data).toEqual([a]);
    expect((await t.request({ url: `/v1/attachments/${a.id}`, key: viewer.key })).body.data).toEqual(a);
    const got = await download(viewer, a.id);
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(PNG)).toBe(true);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['content-disposition']).toBe(`attachment; filename="Screen shot _.png"; filename*=UTF-8''${encodeURIComponent('Screen shot ✓.png')}`);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers.etag).toBe(`"${a.sha256}"`);
    expect((await download(viewer, a.id, { 'if-none-match': `"${a.sha256}"` })).statusCode).toBe(304);
    const included = await t.request({ url: `/v1/tasks/${task.id}?include=attachments`, key: viewer.key });
    expect(included.body.data.attachments).toEqual([a]);
    const events = await t.database.db.selectFrom('events').select('type').where('resource_id', '=', a.id).execute();
    expect(events.map((e) => e.type)).toEqual(['attachment.created']);
    const text = await upload(owner, task.id, { filename: 'notes.md', type: 'text/markdown', content: '# Notes\nünïcödé\n' });
    expect(text.status, text.text).toBe(201);
    expect((await download(owner, text.body.data.id)).headers['content-type']).toBe('text/markdown; charset=utf-8');
  });

  it('refuses a file over the limit, a type it does not accept, a mislabelled file and a request without a file, keeping nothing', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const before = await fingerprint(t.database.db);
    const files = () => (existsSync(storeDir()) ? readdirSync(storeDir()).length + readdirSync(path.join(storeDir(), '.tmp')).length : 0);
    const kept = files();
    const big = await upload(owner, task.id, { type: 'image/png', content: Buffer.concat([PNG, Buffer.alloc(LIMIT)]) });
    expectError({ ...big, headers: big.headers as never }, 413, 'FILE_TOO_LARGE', 'file');
    const html = await upload(owner, task.id, { filename: 'x.html', type: 'text/html', content: '<script>alert(1)</script>' });
    expectError({ ...html, headers: html.headers as never }, 415, 'UNSUPPORTED_CONTENT_TYPE', 'file');
    const fake = await upload(owner, task.id, { filename: 'x.png', type: 'image/png', content: 'not a png at all' });
    expectError({ ...fake, headers: fake.headers as never }, 422, 'CONTENT_TYPE_MISMATCH', 'file');
    const binaryText = await upload(owner, task.id, { filename: 'x.txt', type: 'text/plain', content: Buffer.from([0x41, 0x00, 0x42]) });
    expectError({ ...binaryText, headers: binaryText.headers as never }, 422, 'CONTENT_TYPE_MISMATCH');
    const badUtf8 = await upload(owner, task.id, { filename: 'x.csv', type: 'text/csv', content: Buffer.from([0x61, 0xff, 0xfe]) });
    expectError({ ...badUtf8, headers: badUtf8.headers as never }, 422, 'CONTENT_TYPE_MISMATCH');
    const wrongField = await upload(owner, task.id, { name: 'attachment', type: 'image/png', content: PNG });
    expectError({ ...wrongField, headers: wrongField.headers as never }, 400, 'FILE_REQUIRED');
    const json = await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/attachments`, key: owner.key, body: { file: 'x' } });
    expectError(json, 415, undefined, 'file');
    expect(await fingerprint(t.database.db)).toEqual(before);
    expect(files()).toBe(kept);
  });

  it('lets only those who may read the task download, and those who may change it upload and delete; a stranger gets 404', async () => {
    const { owner, project, workspace } = await makeWorld(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const stranger = await makeUser(t);
    const task = await makeTask(t, owner, project.id);
    const a = (await upload(owner, task.id, { type: 'image/png', content: PNG })).body.data;
    const nope = await upload(viewer, task.id, { type: 'image/png', content: PNG });
    expect(nope.status).toBe(403);
    const hidden = await upload(stranger, task.id, { type: 'image/png', content: PNG });
    expect(hidden.status).toBe(404);
    expect((await download(stranger, a.id)).statusCode).toBe(404);
    expectError(await t.request({ url: `/v1/attachments/${a.id}`, key: stranger.key }), 404, 'NOT_FOUND');
    expectError(await t.request({ method: 'DELETE', url: `/v1/attachments/${a.id}`, key: viewer.key }), 403);
    expect((await t.request({ method: 'DELETE', url: `/v1/attachments/${a.id}`, key: stranger.key })).status).toBe(200);
    expect((await download(owner, a.id)).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/attachments/${a.id}`, key: owner.key })).status).toBe(200);
    expect((await download(owner, a.id)).statusCode).toBe(404);
    expect(await gone(path.join(storeDir(), a.id))).toBe(true);
  });

  it('deletes a task\'s attachments and their files with the task, and sweeps files no row names', async () => {
    const { owner, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const a = (await upload(owner, task.id, { type: 'image/png', content: PNG })).body.data;
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${task.id}`, key: owner.key })).status).toBe(200);
    expect(await t.database.db.selectFrom('attachments').select('id').where('id', '=', a.id).executeTakeFirst()).toBeUndefined();
    expect(await gone(path.join(storeDir(), a.id))).toBe(true);
    // A project's deletion takes its tasks' rows at once; the files go with the next sweep.
    const other = await makeTask(t, owner, project.id);
    const b = (await upload(owner, other.id, { type: 'image/png', content: PNG })).body.data;
    expect((await t.request({ method: 'DELETE', url: `/v1/projects/${project.id}`, key: owner.key })).status).toBe(200);
    expect(existsSync(path.join(storeDir(), b.id))).toBe(true);
    const store = t.deps.attachmentStore;
    await store.sweep(async (ids) => new Set((await t.database.db.selectFrom('attachments').select('id').where('id', 'in', ids).execute()).map((r) => r.id)), 0);
    expect(existsSync(path.join(storeDir(), b.id))).toBe(false);
  });
});

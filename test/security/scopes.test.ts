// Fine-grained key scopes over HTTP: a key reaches only the resources its scopes name (an
// operation's resource is its tag's), never beyond its user's role, and mints nothing wider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPE_BY_TAG, requiredScope } from '../../src/access/scopes.ts';
import { expectError } from '../assertions.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { addMember, makeKey, makeTask, makeUser, makeWorld, type Actor } from '../factories.ts';
import { operations, type Doc } from '../helpers/openapi-sample.ts';

let t: TestApp;
let doc: Doc;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  doc = (await t.request<Doc>({ url: '/openapi.json' })).body;
});
afterAll(async () => {
  await t?.close();
});

const as = (key: string): Actor => ({ key }) as Actor;

describe('key scopes', () => {
  it('maps every operation of the OpenAPI document to a scope by its tag', () => {
    const unmapped = operations(doc)
      .map(([path, method, op]) => ({ where: `${method.toUpperCase()} ${path}`, tag: (op as { tags?: string[] }).tags?.[0] }))
      .filter((o) => o.tag === undefined || !(o.tag in SCOPE_BY_TAG));
    expect(unmapped).toEqual([]);
  });

  it('lets a key with exactly the scope an operation needs past the scope check, and refuses one with another resource\'s', async () => {
    const { owner } = await makeWorld(t);
    const keys = new Map<string, string>();
    const keyFor = async (scope: string) => {
      if (!keys.has(scope)) keys.set(scope, (await makeKey(t, owner, { scopes: [scope] })).key);
      return keys.get(scope)!;
    };
    const problems: string[] = [];
    for (const [path, method, op] of operations(doc)) {
      const needs = requiredScope((op as { tags?: string[] }).tags?.[0], method.toUpperCase(), op.operationId);
      if (needs === 'none' || needs === 'admin') continue;
      const url = path.replace(/\{[^}]+\}/g, 'x1');
      const other = needs.startsWith('labels:') ? 'comments:write' : 'labels:write';
      const allowed = await t.request({ method: method.toUpperCase(), url, key: await keyFor(needs), body: {} });
      if (allowed.body?.error?.code === 'INSUFFICIENT_SCOPE') problems.push(`${op.operationId}: a ${needs} key was refused: ${allowed.text}`);
      const refused = await t.request({ method: method.toUpperCase(), url, key: await keyFor(other), body: {} });
      if (refused.status !== 403 || refused.body?.error?.code !== 'INSUFFICIENT_SCOPE' || refused.body.error.details?.required_scope !== needs) {
        problems.push(`${op.operationId}: a ${other} key got ${refused.status} ${refused.text.slice(0, 160)}, not 403 INSUFFICIENT_SCOPE for ${needs}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('reads and writes only the resources its scopes name, and never beyond the role of its user', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const task = await makeTask(t, owner, project.id);
    const reader = as((await makeKey(t, owner, { scopes: ['tasks:read'] })).key);
    expect((await t.request({ url: `/v1/projects/${project.id}/tasks`, key: reader.key })).status).toBe(200);
    const write = await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: reader.key, body: { title: 'x' } });
    expectError(write, 403, 'INSUFFICIENT_SCOPE');
    expect(write.body.error.details).toEqual({ required_scope: 'tasks:write', key_scopes: ['tasks:read'] });
    expectError(await t.request({ url: `/v1/projects/${project.id}/sprints`, key: reader.key }), 403, 'INSUFFICIENT_SCOPE');
    expect((await t.request({ url: '/v1/api-keys/self', key: reader.key })).body.data.scopes).toEqual(['tasks:read']);

    const writer = as((await makeKey(t, owner, { scopes: ['tasks:write'] })).key);
    expect((await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: writer.key, body: { title: 'by a tasks:write key' } })).status).toBe(201);
    const slugs = { company_slug: workspace.slug, project_slug: project.slug };
    expectError(await t.request({ method: 'POST', url: '/time-trackings', key: writer.key, body: { ...slugs, task_uuid: task.uuid } }), 403, 'INSUFFICIENT_SCOPE');
    const timer = as((await makeKey(t, owner, { scopes: ['time:write'] })).key);
    expect((await t.request({ method: 'POST', url: '/time-trackings', key: timer.key, body: { ...slugs, task_uuid: task.uuid } })).status).toBe(201);

    // Scopes narrow a role, never widen it: a viewer's tasks:write key still cannot write tasks.
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const viewerKey = (await makeKey(t, viewer, { scopes: ['tasks:write'] })).key;
    expectError(await t.request({ method: 'POST', url: `/v1/projects/${project.id}/tasks`, key: viewerKey, body: { title: 'x' } }), 403, 'ROLE_TOO_LOW');
  });

  it('refuses an unknown scope with a 400, and a key that would carry more than the key minting it with a 403', async () => {
    const { owner } = await makeWorld(t);
    for (const scopes of [['tasks:delete'], ['task:write'], ['ADMIN'], ['events:write'], []]) {
      const res = await t.request({ method: 'POST', url: '/v1/api-keys', key: owner.key, body: { name: 'x', scopes } });
      expectError(res, 400);
      expect(res.body.error.param).toMatch(/^scopes/);
    }
    const minter = (await makeKey(t, owner, { scopes: ['tasks:read', 'keys:write'] })).key;
    for (const scopes of [['tasks:write'], ['admin'], ['read'], ['tasks:read', 'time:read']]) {
      expectError(await t.request({ method: 'POST', url: '/v1/api-keys', key: minter, body: { name: 'wider', scopes } }), 403, 'INSUFFICIENT_SCOPE');
    }
    const narrower = await t.request({ method: 'POST', url: '/v1/api-keys', key: minter, body: { name: 'same', scopes: ['tasks:read'] } });
    expect(narrower.status, narrower.text).toBe(201);
    expect(narrower.body.data.scopes).toEqual(['tasks:read']);
    // Without keys:write, no key is made at all.
    const noKeys = (await makeKey(t, owner, { scopes: ['tasks:write'] })).key;
    expectError(await t.request({ method: 'POST', url: '/v1/api-keys', key: noKeys, body: { name: 'x', scopes: ['tasks:read'] } }), 403, 'INSUFFICIENT_SCOPE');
  });
});

// The world the OpenAPI-driven sweeps (roles, fuzzing) act in: a workspace with one user of each
// role and one resource of every kind, made by its owner, and the URL of any route on them.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { JsonSchema } from './openapi-sample.ts';
import { validString, type Chooser } from './schema-arbitrary.ts';
import type { TestApp } from '../app.ts';
import { addMember, makeTask, makeUser, makeWorld, unique, type Actor } from '../factories.ts';

export type Role = 'viewer' | 'member' | 'admin' | 'owner';

export interface SweepWorld {
  actors: Record<Role, Actor>;
  /** A resource id by the path segment in front of its {id}. */
  ids: Record<string, string>;
  slugs: { company_slug: string; project_slug: string };
  taskUuid: string;
  /** The route with its {id} (and {key}) filled in, and the slugs the GitScrum-style routes need. */
  urlOf(route: string): string;
  /**
   * For fuzzing: a field that names a resource (by its id, its uuid, its slug or a workflow
   * status) gets one of the world's half the time, so that generated references also resolve.
   */
  references: Chooser;
  /** Reads the slugs again (a fuzzed update may have changed them). */
  refreshSlugs(): Promise<void>;
}

/** The path segment of the resource an id prefix names. */
const SEGMENT_BY_PREFIX: Record<string, string> = {
  ws: 'workspaces', proj: 'projects', task: 'tasks', user: 'users', mem: 'members', key: 'api-keys',
  spr: 'sprints', lbl: 'labels', cmt: 'comments', att: 'attachments', wh: 'webhooks',
};

export async function buildSweepWorld(t: TestApp): Promise<SweepWorld> {
  const world = await makeWorld(t);
  const actors = { owner: world.owner } as Record<Role, Actor>;
  for (const role of ['admin', 'member', 'viewer'] as const) {
    actors[role] = await makeUser(t);
    await addMember(t, world.owner, world.workspace.id, actors[role], role);
  }
  const extra = await makeUser(t);
  const membership = await addMember(t, world.owner, world.workspace.id, extra, 'member');
  const task = await makeTask(t, world.owner, world.project.id);
  const slugs = { company_slug: world.workspace.slug, project_slug: world.project.slug };
  const post = async (url: string, body: unknown) => {
    const res = await t.request({ method: 'POST', url, key: world.owner.key, body });
    expect(res.status, `${url}: ${res.text}`).toBe(201);
    return res.body.data;
  };
  const ids: Record<string, string> = {
    workspaces: world.workspace.id,
    projects: world.project.id,
    tasks: task.id,
    members: membership.id,
    users: world.owner.userId,
    'api-keys': world.owner.keyId,
  };
  ids.sprints = (await post(`/v1/projects/${world.project.id}/sprints`, { name: unique('Sprint ') })).id;
  ids.labels = (await post(`/v1/workspaces/${world.workspace.id}/labels`, { name: unique('label-') })).id;
  ids.comments = (await post(`/v1/tasks/${task.id}/comments`, { body: 'the owner says' })).id;
  ids['time-entries'] = String((await post('/v1/time-entries', { task_id: task.id, duration_minutes: 30 })).id);
  ids['time-trackings'] = String((await post('/time-trackings', { ...slugs, task_uuid: task.uuid })).id);
  const boundary = 'sweep-world-boundary';
  const upload = await t.app.inject({
    method: 'POST',
    url: `/v1/tasks/${task.id}/attachments`,
    headers: { authorization: `Bearer ${world.owner.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nprobe\r\n--${boundary}--\r\n`,
  });
  expect(upload.statusCode, upload.body).toBe(201);
  ids.attachments = upload.json().data.id;
  ids.webhooks = (await post('/v1/webhooks', { url: 'https://example.com/hook', events: ['*'], workspace_id: world.workspace.id })).id;
  const ping = await t.request({ method: 'POST', url: `/v1/webhooks/${ids.webhooks}/test`, key: world.owner.key });
  expect(ping.status, ping.text).toBe(202);
  const deliveryId: string = ping.body.data.id;
  const urlOf = (route: string): string => {
    const url = route.replace(/\/([^/]+)\/\{id\}/, (_m, segment: string) => {
      const id = ids[segment];
      if (!id) throw new Error(`${route}: no resource for {id} after /${segment}/; add one to test/helpers/sweep-world.ts`);
      return `/${segment}/${id}`;
    });
    const filled = url.replace('{key}', 'todo').replace('{delivery_id}', deliveryId);
    return filled.startsWith('/time-trackings') ? `${filled}?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}` : filled;
  };
  // Candidates by field name, read when a value is generated (the slugs can change).
  const byName: Record<string, () => string[]> = {
    task_id: () => [task.id],
    task_uuid: () => [task.uuid],
    company_slug: () => [slugs.company_slug],
    project_slug: () => [slugs.project_slug],
    status: () => ['backlog', 'todo', 'in_progress', 'review', 'done'],
    tz: () => ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'],
    time_zone: () => ['UTC', 'Europe/Berlin', 'Pacific/Auckland'],
  };
  // Only where the field's schema accepts the candidates (a sprint's `status` is not a column's).
  const accepts = (s: JsonSchema, v: string) =>
    s.type === 'string' && !s.enum && !s.format && (!s.pattern || new RegExp(s.pattern).test(v)) && v.length <= (s.maxLength ?? Infinity);
  const references: Chooser = (s: JsonSchema, field) => {
    const known = field !== undefined ? byName[field] : undefined;
    if (known && known().every((v) => accepts(s, v))) {
      return fc.oneof(fc.nat().map((i) => known()[i % known().length]!), validString(s));
    }
    // The only uuid a request names is a task's (the time-tracking API's task_uuid).
    if (s.format === 'uuid') return fc.oneof(fc.constant(task.uuid), fc.uuid());
    const prefix = /^\^([a-z]+)_/.exec(s.pattern ?? '')?.[1];
    const id = prefix && ids[SEGMENT_BY_PREFIX[prefix] ?? ''];
    if (!id) return undefined;
    const nullable = Array.isArray(s.type) && s.type.includes('null');
    const generated = fc.stringMatching(new RegExp(s.pattern!)).filter((v) => v.length <= (s.maxLength ?? 64));
    return nullable ? fc.oneof(fc.constant(id), generated, fc.constant(null)) : fc.oneof(fc.constant(id), generated);
  };
  const refreshSlugs = async () => {
    const [w, p] = await Promise.all([
      t.request({ url: `/v1/workspaces/${ids.workspaces}`, key: world.owner.key }),
      t.request({ url: `/v1/projects/${ids.projects}`, key: world.owner.key }),
    ]);
    slugs.company_slug = w.body.data.slug;
    slugs.project_slug = p.body.data.slug;
  };
  return { actors, ids, slugs, taskUuid: task.uuid, urlOf, references, refreshSlugs };
}

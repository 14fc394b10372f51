// Tenancy: another workspace's resources answer exactly like resources that do not exist. The
// sweep is driven by the OpenAPI document, so a new id-taking route is covered (or fails loudly).
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base62 } from '../../src/lib/ids.ts';
import { fingerprint } from '../assertions.ts';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { addMember, makeTask, makeUser, makeWorld, unique, type Actor } from '../factories.ts';
import { METHODS, Sampler, type Doc, type FieldValues, type Operation } from '../helpers/openapi-sample.ts';

/** Which resource an {id} names, from the path segment in front of it. */
type Kind = 'workspace' | 'project' | 'task' | 'member' | 'apiKey' | 'user' | 'timeEntry' | 'sprint' | 'label' | 'comment' | 'attachment' | 'webhook';
const KIND_BY_SEGMENT: Record<string, Kind> = {
  workspaces: 'workspace',
  projects: 'project',
  tasks: 'task',
  members: 'member',
  'api-keys': 'apiKey',
  users: 'user',
  'time-entries': 'timeEntry',
  'time-trackings': 'timeEntry',
  sprints: 'sprint',
  labels: 'label',
  comments: 'comment',
  attachments: 'attachment',
  webhooks: 'webhook',
};
const PREFIX: Record<Exclude<Kind, 'timeEntry'>, string> = { workspace: 'ws', project: 'proj', task: 'task', member: 'mem', apiKey: 'key', user: 'user', sprint: 'spr', label: 'lbl', comment: 'cmt', attachment: 'att', webhook: 'wh' };

/** Instance-administration routes refuse a non-administrator with 403 whatever the id; every other one says 404. */
const INSTANCE_ADMIN_PATHS = /^\/v1\/admin\//;

/** Path parameters after the {id}, with the value that names a real thing inside the owner's resource (a delivery's: set once made). */
const INNER_PARAMS: Record<string, string> = { key: 'todo', delivery_id: '' };

function kindOf(path: string): Kind {
  const params = [...path.matchAll(/\{([^}]+)\}/g)].filter((m) => !INNER_PARAMS[m[1]!]);
  if (params.length !== 1 || params[0]![1] !== 'id') {
    throw new Error(`${path}: the tenancy sweep knows only routes with one {id}; map this route in test/security/tenancy.test.ts`);
  }
  const segment = /\/([^/]+)\/\{id\}/.exec(path)?.[1];
  const kind = segment ? KIND_BY_SEGMENT[segment] : undefined;
  if (!kind) throw new Error(`${path}: unmapped id-taking route; add its resource to KIND_BY_SEGMENT in test/security/tenancy.test.ts`);
  return kind;
}

/** Values that are valid for fields whose schema alone cannot say (a workflow status, a role). */
const FIELD_VALUES: FieldValues = {
  status: () => 'todo',
  role: () => 'viewer',
  email: () => `${unique('probe')}@example.test`,
  name: () => unique('Probe '),
  title: () => unique('Probe '),
  // The GitScrum-style routes name a project by slugs: the caller's own, so that only the entry
  // id decides the answer.
  company_slug: () => strangerSlugs.company_slug,
  project_slug: () => strangerSlugs.project_slug,
};

/** Query parameters a route needs besides its id. */
function queryFor(route: string): string {
  return route.startsWith('/time-trackings/') ? `?company_slug=${strangerSlugs.company_slug}&project_slug=${strangerSlugs.project_slug}` : '';
}

/** Valid bodies from each operation's request schema (see helpers/openapi-sample.ts). */
const sampler = new Sampler(FIELD_VALUES);
const bodyFor = (path: string, method: string, op: Operation) => sampler.body(path, method, op);

// Time entries have integer ids: a random one far beyond any this test creates.
const randomId = (kind: Kind) => (kind === 'timeEntry' ? String(1_000_000_000 + Math.floor(Math.random() * 1_000_000_000)) : `${PREFIX[kind]}_${base62(16)}`);

let t: TestApp;
let owner: Actor;
let stranger: Actor;
let teammate: Actor;
const ids = {} as Record<Kind, string>;
let otherProject: { id: string };
let otherTask: { id: string };
let otherSprint: { id: string };
let strangerSlugs: { company_slug: string; project_slug: string };


beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  const world = await makeWorld(t);
  owner = world.owner;
  teammate = await makeUser(t);
  const membership = await addMember(t, owner, world.workspace.id, teammate, 'member');
  const task = await makeTask(t, owner, world.project.id);
  ids.workspace = world.workspace.id;
  ids.project = world.project.id;
  ids.task = task.id;
  ids.member = membership.id;
  ids.apiKey = owner.keyId;
  ids.user = owner.userId;
  // A second project in the same workspace, for the project-key checks.
  const p2 = await t.request({ method: 'POST', url: `/v1/workspaces/${ids.workspace}/projects`, key: owner.key, body: { name: unique('Other ') } });
  expect(p2.status).toBe(201);
  otherProject = p2.body.data;
  otherTask = await makeTask(t, owner, otherProject.id);
  const sprint = await t.request({ method: 'POST', url: `/v1/projects/${ids.project}/sprints`, key: owner.key, body: { name: unique('Sprint ') } });
  expect(sprint.status, sprint.text).toBe(201);
  ids.sprint = sprint.body.data.id;
  const label = await t.request({ method: 'POST', url: `/v1/workspaces/${ids.workspace}/labels`, key: owner.key, body: { name: unique('label-') } });
  expect(label.status, label.text).toBe(201);
  ids.label = label.body.data.id;
  const comment = await t.request({ method: 'POST', url: `/v1/tasks/${task.id}/comments`, key: owner.key, body: { body: 'probe' } });
  expect(comment.status, comment.text).toBe(201);
  ids.comment = comment.body.data.id;
  const boundary = 'tenancy-boundary';
  const upload = await t.app.inject({
    method: 'POST',
    url: `/v1/tasks/${task.id}/attachments`,
    headers: { authorization: `Bearer ${owner.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nprobe\r\n--${boundary}--\r\n`,
  });
  expect(upload.statusCode, upload.body).toBe(201);
  ids.attachment = upload.json().data.id;
  const sprint2 = await t.request({ method: 'POST', url: `/v1/projects/${otherProject.id}/sprints`, key: owner.key, body: { name: unique('Sprint ') } });
  expect(sprint2.status, sprint2.text).toBe(201);
  otherSprint = sprint2.body.data;
  // The stranger has a workspace of their own, so their key reaches real data, just not the owner's.
  const strangerWorld = await makeWorld(t);
  stranger = strangerWorld.owner;
  strangerSlugs = { company_slug: strangerWorld.workspace.slug, project_slug: strangerWorld.project.slug };
  const entry = await t.request({ method: 'POST', url: '/v1/time-entries', key: owner.key, body: { task_id: task.id, duration_minutes: 30 } });
  expect(entry.status, entry.text).toBe(201);
  ids.timeEntry = String(entry.body.data.id);
  const webhook = await t.request({ method: 'POST', url: '/v1/webhooks', key: owner.key, body: { url: 'https://example.com/hook', events: ['*'], workspace_id: ids.workspace } });
  expect(webhook.status, webhook.text).toBe(201);
  ids.webhook = webhook.body.data.id;
  const ping = await t.request({ method: 'POST', url: `/v1/webhooks/${ids.webhook}/test`, key: owner.key });
  expect(ping.status, ping.text).toBe(202);
  INNER_PARAMS.delivery_id = ping.body.data.id;
});
afterAll(async () => {
  await t?.close();
});

/** What the owner sees of a resource: used to prove it still exists after a stranger's DELETE. */
async function ownerView(kind: Kind, id: string): Promise<Response> {
  switch (kind) {
    case 'workspace':
      return t.request({ url: `/v1/workspaces/${id}`, key: owner.key });
    case 'project':
      return t.request({ url: `/v1/projects/${id}`, key: owner.key });
    case 'task':
      return t.request({ url: `/v1/tasks/${id}`, key: owner.key });
    case 'member':
      return t.request({ url: `/v1/members/${id}`, key: owner.key });
    case 'apiKey': {
      // A revoked key would stop authenticating; the owner's key must still work and be unrevoked.
      const res = await t.request({ url: '/v1/api-keys/self', key: owner.key });
      if (res.status === 200 && (res.body.data.id !== id || res.body.data.revoked_at !== null)) return { ...res, status: 410 };
      return res;
    }
    case 'user':
      return t.request({ url: '/v1/api-keys/self', key: owner.key });
    case 'timeEntry':
      return t.request({ url: `/v1/time-entries/${id}`, key: owner.key });
    case 'sprint':
      return t.request({ url: `/v1/sprints/${id}`, key: owner.key });
    case 'label':
      return t.request({ url: `/v1/labels/${id}`, key: owner.key });
    case 'comment':
      return t.request({ url: `/v1/comments/${id}`, key: owner.key });
    case 'attachment':
      return t.request({ url: `/v1/attachments/${id}`, key: owner.key });
    case 'webhook':
      return t.request({ url: `/v1/webhooks/${id}`, key: owner.key });
  }
}

interface Probe {
  route: string;
  method: string;
  url: string;
  body?: Record<string, unknown>;
}

/** Calls each probe on the real id and on a random one; collects every difference and every leak. */
async function sweep(key: string, probes: Array<Probe & { kind: Kind; realId: string }>, problems: string[]): Promise<void> {
  for (const p of probes) {
    const missingId = randomId(p.kind);
    const real = await t.request({ method: p.method, url: p.url.replace('{id}', p.realId), key, body: p.body });
    const missing = await t.request({ method: p.method, url: p.url.replace('{id}', missingId), key, body: p.body });
    const route = `${p.method} ${p.route}`;
    if (p.method === 'DELETE') {
      if (real.status !== 200 || missing.status !== 200) problems.push(`${route}: DELETE answered ${real.status} (theirs) / ${missing.status} (missing), expected 200 for both`);
      const normalise = (r: Response, id: string) => r.text.split(id).join('<id>');
      if (normalise(real, p.realId) !== normalise(missing, missingId)) problems.push(`${route}: DELETE body differs: ${real.text} vs ${missing.text}`);
      const still = await ownerView(p.kind, p.realId);
      if (still.status !== 200) problems.push(`${route}: after the stranger's DELETE the owner gets ${still.status} for their ${p.kind}`);
      continue;
    }
    const expected = INSTANCE_ADMIN_PATHS.test(p.route) ? 403 : 404;
    if (real.status !== expected) problems.push(`${route}: answered ${real.status} on another workspace's ${p.kind}, expected ${expected}: ${real.text}`);
    if (real.text !== missing.text) problems.push(`${route}: body differs from a nonexistent id's:\n  theirs:  ${real.text}\n  missing: ${missing.text}`);
    if (real.status !== missing.status) problems.push(`${route}: status ${real.status} differs from a nonexistent id's ${missing.status}`);
    if (real.headers.etag !== undefined) problems.push(`${route}: an ETag leaked on another workspace's ${p.kind}`);
  }
}

function idProbes(doc: Doc, filter: (kind: Kind) => boolean, realIds: Partial<Record<Kind, string>>) {
  const probes: Array<Probe & { kind: Kind; realId: string }> = [];
  for (const [route, item] of Object.entries(doc.paths)) {
    if (!route.includes('{')) continue;
    const kind = kindOf(route);
    if (!filter(kind)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const realId = realIds[kind];
      if (!realId) throw new Error(`${route}: no real id of kind ${kind}`);
      const url = Object.entries(INNER_PARAMS).reduce((u, [name, value]) => u.replace(`{${name}}`, value), route);
      probes.push({ route, kind, realId, method: method.toUpperCase(), url: url + queryFor(route), body: bodyFor(route, method, op) });
    }
  }
  // Reads and writes first, deletes last, so a leaking DELETE cannot hide a leaking read.
  return probes.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
}

describe('tenancy', () => {
  it("every id-taking route answers a non-member on another workspace's resource exactly as for a nonexistent id, and changes nothing", async () => {
    const doc = (await t.request<Doc>({ url: '/openapi.json' })).body;
    const probes = idProbes(doc, () => true, ids);
    // The sweep must actually cover the API: every kind of id and every method that takes one.
    expect(new Set(probes.map((p) => p.kind))).toEqual(new Set(Object.keys(KIND_BY_SEGMENT).map((s) => KIND_BY_SEGMENT[s])));
    expect(new Set(probes.map((p) => p.method))).toEqual(new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));

    const before = await fingerprint(t.database.db);
    const problems: string[] = [];
    await sweep(stranger.key, probes, problems);
    expect(problems).toEqual([]);
    expect(await fingerprint(t.database.db)).toEqual(before);
    // The teammate whose membership the stranger tried to remove is still in the workspace.
    const members = await t.request({ url: `/v1/workspaces/${ids.workspace}/members`, key: owner.key });
    expect(members.body.data.map((m: { user_id: string }) => m.user_id)).toContain(teammate.userId);
  });

  it("an unmapped id-taking route makes the sweep fail instead of being skipped", () => {
    expect(() => kindOf('/v1/widgets/{id}')).toThrow(/unmapped/);
    expect(() => kindOf('/v1/tasks/{taskId}/comments')).toThrow(/one \{id\}/);
    expect(kindOf('/v1/tasks/{id}/move')).toBe('task');
    expect(kindOf('/v1/sprints/{id}/start')).toBe('sprint');
  });

  it("lists never show another workspace's resources to a non-member", async () => {
    const workspaces = await t.request({ url: '/v1/workspaces', key: stranger.key });
    expect(workspaces.status).toBe(200);
    expect(workspaces.body.data.map((w: { id: string }) => w.id)).not.toContain(ids.workspace);
    const tasks = await t.request({ url: `/v1/tasks?workspace=${ids.workspace}`, key: stranger.key });
    expect(tasks.status).toBe(200);
    expect(tasks.body.data).toEqual([]);
    const byProject = await t.request({ url: `/v1/tasks?project=${ids.project}`, key: stranger.key });
    expect(byProject.status).toBe(200);
    expect(byProject.body.data).toEqual([]);
    const all = await t.request({ url: '/v1/tasks?per_page=100', key: stranger.key });
    expect(all.body.data.map((x: { workspace_id: string }) => x.workspace_id)).not.toContain(ids.workspace);
  });

  it('a project key answers 404 for another project of its own workspace and for its tasks and sprints, exactly as for nonexistent ones', async () => {
    const created = await t.request({ method: 'POST', url: '/v1/api-keys', key: owner.key, body: { name: 'project key', project_id: ids.project } });
    expect(created.status).toBe(201);
    expect(created.body.data.project_id).toBe(ids.project);
    const projectKey = created.body.data.secret as string;

    // Its own project still works, so the 404s below are about the other project.
    expect((await t.request({ url: `/v1/projects/${ids.project}`, key: projectKey })).status).toBe(200);
    expect((await t.request({ url: `/v1/tasks/${ids.task}`, key: projectKey })).status).toBe(200);

    const doc = (await t.request<Doc>({ url: '/openapi.json' })).body;
    const probes = idProbes(doc, (k) => k === 'project' || k === 'task' || k === 'sprint', { project: otherProject.id, task: otherTask.id, sprint: otherSprint.id });
    expect(probes.length).toBeGreaterThanOrEqual(10);
    const before = await fingerprint(t.database.db);
    const problems: string[] = [];
    await sweep(projectKey, probes, problems);
    expect(problems).toEqual([]);
    expect(await fingerprint(t.database.db)).toEqual(before);

    const listed = await t.request({ url: `/v1/workspaces/${ids.workspace}/projects`, key: projectKey });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((p: { id: string }) => p.id)).toEqual([ids.project]);
    const tasks = await t.request({ url: '/v1/tasks?per_page=100', key: projectKey });
    expect(tasks.body.data.map((x: { project_id: string }) => x.project_id)).not.toContain(otherProject.id);
    const filtered = await t.request({ url: `/v1/tasks?project=${otherProject.id}`, key: projectKey });
    expect(filtered.body.data).toEqual([]);
  });

  it("a non-member cannot mint a key limited to another workspace's project", async () => {
    const before = await fingerprint(t.database.db);
    const theirs = await t.request({ method: 'POST', url: '/v1/api-keys', key: stranger.key, body: { name: 'probe', project_id: ids.project } });
    const missing = await t.request({ method: 'POST', url: '/v1/api-keys', key: stranger.key, body: { name: 'probe', project_id: randomId('project') } });
    expect(theirs.status).toBeGreaterThanOrEqual(400);
    expect(theirs.status).toBeLessThan(500);
    expect(theirs.text).toBe(missing.text);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });
});

describe('tenancy in the database', () => {
  it("refuses a task whose workspace is not its project's, so a project's tasks never need a workspace filter", async () => {
    const mine = await makeWorld(t);
    const theirs = await makeWorld(t);
    const task = await makeTask(t, mine.owner, mine.project.id);
    const move = sql`update tasks set workspace_id = ${theirs.workspace.id} where id = ${task.id}`.execute(t.database.db);
    await expect(move).rejects.toMatchObject({ code: '23503' });
    const stray = sql`insert into tasks (id, uuid, workspace_id, project_id, number, title, status)
      values (${`task_${base62(16)}`}, gen_random_uuid(), ${theirs.workspace.id}, ${mine.project.id}, 999, 'Stray', 'backlog')`.execute(t.database.db);
    await expect(stray).rejects.toMatchObject({ code: '23503' });
  });
});

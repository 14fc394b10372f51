// The role × operation table (test/security/access-table.json), proved over HTTP: every operation of the
// OpenAPI document is in the table, and each role gets exactly what the table says on the
// resources of a workspace's owner. A read-only key makes no successful write at all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../assertions.ts';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { makeKey, makeUser, unique, type Actor } from '../factories.ts';
import { operations, Sampler, type Doc } from '../helpers/openapi-sample.ts';
import { buildSweepWorld, type Role, type SweepWorld } from '../helpers/sweep-world.ts';

const ROLES: Role[] = ['viewer', 'member', 'admin', 'owner'];
type Rule = Role | 'public' | 'authenticated' | 'instance-admin';
interface Entry {
  /** The least role that may call it on the owner's resources; or who else may. */
  allow: Rule;
  /**
   * How a role below `allow` is refused: 403 by default; 404 where the resource is hidden from it;
   * `unchanged` for a DELETE that answers 200, as for a resource that is not there, and changes nothing.
   */
  refusal?: 403 | 404 | 'unchanged';
  why?: string;
}

const TABLE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'access-table.json');
const table = JSON.parse(readFileSync(TABLE_FILE, 'utf8')).operations as Record<string, Entry>;

/** DELETEs run last, leaves first, so that each still finds what it deletes. */
const DELETE_ORDER = ['deleteWebhook', 'deleteAttachment', 'deleteComment', 'deleteTimeEntry', 'deleteTimeTracking', 'deleteLabel', 'deleteStatus', 'deleteSprint', 'deleteTask', 'deleteProject', 'removeMember', 'revokeApiKey'];

let t: TestApp;
let doc: Doc;
let world: SweepWorld;
let actors: Record<Role, Actor>;

beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  doc = (await t.request<Doc>({ url: '/openapi.json' })).body;
  world = await buildSweepWorld(t);
  actors = world.actors;
});
afterAll(async () => {
  await t?.close();
});

let counter = 0;
const sampler = () =>
  new Sampler({
    status: () => 'todo',
    role: () => 'viewer',
    name: () => unique('Probe '),
    title: () => unique('Probe '),
    key: () => `probe-${++counter}`,
    id: () => world.ids.tasks,
    task_id: () => world.ids.tasks,
    task_uuid: () => world.taskUuid,
    // Entries of 10 minutes from different days, so that none overlaps another.
    duration_minutes: () => 10,
    date: () => new Date(Date.UTC(2026, 0, 1 + ++counter)).toISOString().slice(0, 10),
    company_slug: () => world.slugs.company_slug,
    project_slug: () => world.slugs.project_slug,
    url: () => 'https://example.com/hook',
    events: () => ['*'],
    workspace_id: () => world.ids.workspaces,
  });

/** The one response that may show a secret: a key's, when it is made (OWASP API3). */
const SHOWS_A_SECRET = new Set(['createApiKey', 'adminCreateUserApiKey', 'createWebhook', 'rotateWebhookSecret']);

/** Paths of fields whose name says they hold a secret (secret, hash, password, token), anywhere in a body. */
function secretFields(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretFields(v, `${path}[${i}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/(^|_)(secret|hash|password|token)s?($|_)/i.test(k) ? [`${path}.${k}`] : []),
    ...secretFields(v, `${path}.${k}`),
  ]);
}

/** Refused for the caller's role: a 403, a hidden resource's 404, or a batch whose every refused item was one. */
function refusal(res: Response): number | undefined {
  if (res.status === 403 || res.status === 404) return res.status;
  const items = res.body?.error?.code === 'BATCH_REJECTED' ? (res.body.error.details.errors as Array<{ status: number }>) : [];
  if (items.length > 0 && items.every((e) => e.status === 403)) return 403;
  return undefined;
}

async function call(route: string, method: string, key: string | undefined, body: unknown): Promise<Response> {
  if (route.endsWith('/attachments') && method === 'post') {
    const boundary = 'sweep-boundary';
    const res = await t.app.inject({
      method: 'POST',
      url: world.urlOf(route),
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\nContent-Type: text/plain\r\n\r\nsweep\r\n--${boundary}--\r\n`,
    });
    return { status: res.statusCode, headers: res.headers, body: res.json(), text: res.body };
  }
  return t.request({ method: method.toUpperCase(), url: world.urlOf(route), key, body });
}

describe('roles × operations', () => {
  it('has an entry for every operation of the OpenAPI document, and none for an operation it lacks', () => {
    const ops = new Set(operations(doc).map(([, , op]) => op.operationId));
    expect([...ops].filter((id) => !table[id]).sort(), 'operations missing from test/security/access-table.json').toEqual([]);
    expect(Object.keys(table).filter((id) => !ops.has(id)).sort(), 'entries of test/security/access-table.json for operations that do not exist').toEqual([]);
  });

  it("gives each role exactly what the table says on the owner's resources, and a viewer changes nothing; no response but the creation of a key or of a webhook secret carries a secret-bearing field", async () => {
    const ranked = operations(doc).filter(([, , op]) => ROLES.includes(table[op.operationId]!.allow as Role));
    const writesLast = [
      ...ranked.filter(([, m]) => m !== 'delete'),
      ...ranked.filter(([, m]) => m === 'delete').sort(([, , a], [, , b]) => {
        const [ia, ib] = [DELETE_ORDER.indexOf(a.operationId), DELETE_ORDER.indexOf(b.operationId)];
        if (ia < 0 || ib < 0) throw new Error(`place ${ia < 0 ? a.operationId : b.operationId} in DELETE_ORDER`);
        return ia - ib;
      }),
    ];
    const problems: string[] = [];
    const seen: Record<string, Record<Role, number>> = {};
    const run = async (route: string, method: string, op: { operationId: string }, role: Role) => {
      const entry = table[op.operationId]!;
      const allowed = ROLES.indexOf(role) >= ROLES.indexOf(entry.allow as Role);
      const unchanged = !allowed && entry.refusal === 'unchanged' ? await fingerprint(t.database.db) : undefined;
      const res = await call(route, method, actors[role].key, sampler().body(route, method, op as never));
      if (unchanged) {
        if (res.status !== 200 || JSON.stringify(await fingerprint(t.database.db)) !== JSON.stringify(unchanged)) {
          problems.push(`${op.operationId} as ${role}: the table refuses it below ${entry.allow} with a 200 that changes nothing; it answered ${res.status} and changed ${JSON.stringify(unchanged) === JSON.stringify(await fingerprint(t.database.db)) ? 'nothing' : 'something'}`);
        }
        return;
      }
      (seen[op.operationId] ??= {} as Record<Role, number>)[role] = res.status;
      const leaked = SHOWS_A_SECRET.has(op.operationId) ? [] : secretFields(res.body);
      if (leaked.length > 0) problems.push(`${op.operationId} as ${role}: a secret-bearing field in the response: ${leaked.join(', ')}`);
      const refused = refusal(res);
      if (res.status >= 500) problems.push(`${op.operationId} as ${role}: ${res.status} ${res.text}`);
      // A 400 is the sweep's own mistake (its body broke a schema): it would prove nothing.
      else if (res.status === 400) problems.push(`${op.operationId} as ${role}: 400 for the sweep's request; give its fields valid values: ${res.text.slice(0, 200)}`);
      else if (allowed && refused !== undefined) problems.push(`${op.operationId} as ${role}: refused with ${res.status}, but the table allows ${entry.allow} and above: ${res.text.slice(0, 200)}`);
      else if (!allowed && refused !== (entry.refusal ?? 403)) problems.push(`${op.operationId} as ${role}: answered ${res.status}, but the table refuses it below ${entry.allow} with ${entry.refusal ?? 403}: ${res.text.slice(0, 200)}`);
    };
    const nonDeletes = writesLast.filter(([, m]) => m !== 'delete');
    const before = await fingerprint(t.database.db);
    for (const [route, method, op] of nonDeletes) await run(route, method, op, 'viewer');
    expect(await fingerprint(t.database.db), 'a viewer changed something').toEqual(before);
    for (const role of ['member', 'admin', 'owner'] as const) for (const [route, method, op] of nonDeletes) await run(route, method, op, role);
    for (const [route, method, op] of writesLast.filter(([, m]) => m === 'delete')) for (const role of ROLES) await run(route, method, op, role);
    if (process.env.SPRINTLANE_PRINT_ACCESS) console.log(JSON.stringify(seen, null, 1));
    expect(problems).toEqual([]);
  });

  it('answers public operations without a key, refuses instance administration to everyone else, and lets any caller at their own account', async () => {
    const stranger = await makeUser(t);
    for (const [route, method, op] of operations(doc)) {
      const entry = table[op.operationId]!;
      if (entry.allow === 'public') {
        const res = await call(route, method, undefined, undefined);
        expect(res.status, `${op.operationId} without a key`).toBeLessThan(400);
      } else if (entry.allow === 'instance-admin') {
        const res = await call(route, method, actors.owner.key, sampler().body(route, method, op));
        expect(res.status, `${op.operationId} as a workspace owner who is no instance administrator`).toBe(403);
      } else if (entry.allow === 'authenticated' && method === 'get') {
        const res = await call(route, method, stranger.key, undefined);
        expect([401, 403], `${op.operationId} as a caller of no workspace`).not.toContain(res.status);
        const own = await call(route, method, actors.owner.key, undefined);
        expect(secretFields(own.body), `${op.operationId}: secret-bearing fields`).toEqual([]);
      }
      if (entry.allow === 'instance-admin' && method === 'get') {
        expect(secretFields((await call(route, method, t.adminKey, undefined)).body), `${op.operationId}: secret-bearing fields`).toEqual([]);
      }
    }
  });

  it('a read-only key makes no successful write, anywhere', async () => {
    const readOnly = await makeKey(t, actors.owner, { scopes: ['read'] });
    const before = await fingerprint(t.database.db);
    const wrote: string[] = [];
    for (const [route, method, op] of operations(doc)) {
      if (method === 'get' || table[op.operationId]!.allow === 'public') continue;
      const res = await call(route, method, readOnly.key, sampler().body(route, method, op));
      if (res.status < 400 || res.status >= 500) wrote.push(`${op.operationId}: ${res.status}`);
    }
    expect(wrote).toEqual([]);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });
});

// Hostile input on every write endpoint: each case gets a clear 4xx in the error envelope that
// names the field where there is one, never a 500, and leaves every table exactly as it was.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base62 } from '../../src/lib/ids.ts';
import { fingerprint } from '../assertions.ts';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { addMember, makeTask, makeUser, makeWorld, unique, type Actor } from '../factories.ts';

interface World {
  owner: Actor;
  ws: string;
  proj: string;
  task: string;
  mem: string;
  member: Actor;
  otherOwner: Actor;
  otherWs: string;
  otherProj: string;
  otherTask: string;
  otherMem: string;
  /** A planned sprint of the owner's project, and one of the other workspace's. */
  spr: string;
  otherSpr: string;
  taskUuid: string;
  companySlug: string;
  projectSlug: string;
  /** The owner's manual time entry, and their running timer. */
  entry: number;
  timer: number;
}

let t: TestApp;
const w = {} as World;

beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  const world = await makeWorld(t);
  w.owner = world.owner;
  w.ws = world.workspace.id;
  w.proj = world.project.id;
  const task = await makeTask(t, w.owner, w.proj, { labels: ['keep'], estimated_minutes: 30 });
  w.task = task.id;
  w.taskUuid = task.uuid;
  w.companySlug = world.workspace.slug;
  w.projectSlug = world.project.slug;
  const entry = await t.request({ method: 'POST', url: '/v1/time-entries', key: w.owner.key, body: { task_id: w.task, duration_minutes: 30, date: '2026-01-15' } });
  expect(entry.status, entry.text).toBe(201);
  w.entry = entry.body.data.id;
  const timer = await t.request({ method: 'POST', url: '/time-trackings', key: w.owner.key, body: { company_slug: w.companySlug, project_slug: w.projectSlug, task_uuid: w.taskUuid } });
  expect(timer.status, timer.text).toBe(201);
  w.timer = timer.body.data.id;
  w.member = await makeUser(t);
  w.mem = (await addMember(t, w.owner, w.ws, w.member, 'member')).id;
  const other = await makeWorld(t);
  w.otherOwner = other.owner;
  w.otherWs = other.workspace.id;
  w.otherProj = other.project.id;
  w.otherTask = (await makeTask(t, other.owner, other.project.id)).id;
  w.otherMem = (await addMember(t, other.owner, other.workspace.id, await makeUser(t), 'member')).id;
  const sprint = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/sprints`, key: w.owner.key, body: { name: 'Hostile sprint' } });
  expect(sprint.status, sprint.text).toBe(201);
  w.spr = sprint.body.data.id;
  const otherSprint = await t.request({ method: 'POST', url: `/v1/projects/${w.otherProj}/sprints`, key: other.owner.key, body: { name: 'Their sprint' } });
  expect(otherSprint.status, otherSprint.text).toBe(201);
  w.otherSpr = otherSprint.body.data.id;
});
afterAll(async () => {
  await t?.close();
});


type Field = 'string' | 'integer' | 'array' | 'enum';

interface Endpoint {
  method: string;
  url: (w: World) => string;
  /** A body the endpoint would accept; every case breaks exactly one thing in it. */
  valid: () => Record<string, unknown>;
  required: string[];
  fields: Record<string, { type: Field; maxLength?: number; maxItems?: number }>;
}

const ENDPOINTS: Record<string, Endpoint> = {
  'POST /v1/projects/:id/sprints': {
    method: 'POST',
    url: (w) => `/v1/projects/${w.proj}/sprints`,
    valid: () => ({ name: unique('Sprint ') }),
    required: ['name'],
    fields: { name: { type: 'string', maxLength: 100 }, goal: { type: 'string', maxLength: 10_000 }, start_date: { type: 'string', maxLength: 10 }, end_date: { type: 'string', maxLength: 10 } },
  },
  'PATCH /v1/sprints/:id': {
    method: 'PATCH',
    url: (w) => `/v1/sprints/${w.spr}`,
    valid: () => ({ goal: unique('Goal ') }),
    required: [],
    fields: { name: { type: 'string', maxLength: 100 }, goal: { type: 'string', maxLength: 10_000 } },
  },
  'POST /v1/workspaces': {
    method: 'POST',
    url: () => '/v1/workspaces',
    valid: () => ({ name: unique('Hostile ') }),
    required: ['name'],
    fields: { name: { type: 'string', maxLength: 100 }, slug: { type: 'string', maxLength: 63 }, time_zone: { type: 'string', maxLength: 64 } },
  },
  'PATCH /v1/workspaces/:id': {
    method: 'PATCH',
    url: (w) => `/v1/workspaces/${w.ws}`,
    valid: () => ({ name: unique('Renamed ') }),
    required: [],
    fields: { name: { type: 'string', maxLength: 100 }, slug: { type: 'string', maxLength: 63 }, time_zone: { type: 'string', maxLength: 64 }, plan: { type: 'enum' } },
  },
  'PUT /v1/workspaces/:id': {
    method: 'PUT',
    url: (w) => `/v1/workspaces/${w.ws}`,
    valid: () => ({ name: unique('Renamed ') }),
    required: [],
    fields: { name: { type: 'string', maxLength: 100 } },
  },
  'POST /v1/workspaces/:id/projects': {
    method: 'POST',
    url: (w) => `/v1/workspaces/${w.ws}/projects`,
    valid: () => ({ name: unique('Project ') }),
    required: ['name'],
    fields: { name: { type: 'string', maxLength: 100 }, slug: { type: 'string', maxLength: 63 }, description: { type: 'string', maxLength: 10_000 } },
  },
  'PATCH /v1/projects/:id': {
    method: 'PATCH',
    url: (w) => `/v1/projects/${w.proj}`,
    valid: () => ({ name: unique('Project ') }),
    required: [],
    fields: { name: { type: 'string', maxLength: 100 }, description: { type: 'string', maxLength: 10_000 } },
  },
  'POST /v1/projects/:id/tasks': {
    method: 'POST',
    url: (w) => `/v1/projects/${w.proj}/tasks`,
    valid: () => ({ title: 'A task' }),
    required: ['title'],
    fields: {
      title: { type: 'string', maxLength: 500 },
      description: { type: 'string', maxLength: 65_535 },
      status: { type: 'string', maxLength: 50 },
      priority: { type: 'enum' },
      labels: { type: 'array', maxItems: 50 },
      assignee_id: { type: 'string', maxLength: 64 },
      estimated_minutes: { type: 'integer' },
    },
  },
  'PATCH /v1/tasks/:id': {
    method: 'PATCH',
    url: (w) => `/v1/tasks/${w.task}`,
    valid: () => ({ title: 'Renamed task' }),
    required: [],
    fields: { title: { type: 'string', maxLength: 500 }, labels: { type: 'array', maxItems: 50 }, estimated_minutes: { type: 'integer' }, priority: { type: 'enum' } },
  },
  'PUT /v1/tasks/:id': {
    method: 'PUT',
    url: (w) => `/v1/tasks/${w.task}`,
    valid: () => ({ title: 'Renamed task' }),
    required: [],
    fields: { title: { type: 'string', maxLength: 500 }, labels: { type: 'array', maxItems: 50 }, estimated_minutes: { type: 'integer' } },
  },
  'PATCH /v1/tasks/:id/move': {
    method: 'PATCH',
    url: (w) => `/v1/tasks/${w.task}/move`,
    valid: () => ({ status: 'todo' }),
    required: ['status'],
    fields: { status: { type: 'string', maxLength: 50 }, position: { type: 'integer' } },
  },
  'POST /v1/workspaces/:id/members': {
    method: 'POST',
    url: (w) => `/v1/workspaces/${w.ws}/members`,
    valid: () => ({ email: `${unique('invitee')}@example.test` }),
    required: ['email'],
    fields: { email: { type: 'string', maxLength: 254 }, name: { type: 'string', maxLength: 200 }, role: { type: 'enum' } },
  },
  'PATCH /v1/members/:id': {
    method: 'PATCH',
    url: (w) => `/v1/members/${w.mem}`,
    valid: () => ({ role: 'viewer' }),
    required: ['role'],
    fields: { role: { type: 'enum' } },
  },
  'POST /v1/time-entries': {
    method: 'POST',
    url: () => '/v1/time-entries',
    valid: () => ({ task_id: 'TASK', duration_minutes: 15 }),
    required: ['task_id'],
    fields: {
      task_id: { type: 'string', maxLength: 64 },
      duration_minutes: { type: 'integer' },
      date: { type: 'string', maxLength: 10 },
      started_at: { type: 'string', maxLength: 40 },
      description: { type: 'string', maxLength: 10_000 },
    },
  },
  'PATCH /v1/time-entries/:id': {
    method: 'PATCH',
    url: (w) => `/v1/time-entries/${w.entry}`,
    valid: () => ({ description: 'Edited', duration_minutes: 20 }),
    required: [],
    fields: { description: { type: 'string', maxLength: 10_000 }, duration_minutes: { type: 'integer' }, ended_at: { type: 'string', maxLength: 40 } },
  },
  'POST /time-trackings': {
    method: 'POST',
    url: () => '/time-trackings',
    valid: () => ({ company_slug: 'CO_SLUG', project_slug: 'PR_SLUG', task_uuid: 'TASK_UUID', started_at: '2026-02-06T14:00:00Z', ended_at: '2026-02-06T16:30:00Z' }),
    required: ['company_slug', 'project_slug', 'task_uuid'],
    fields: {
      company_slug: { type: 'string', maxLength: 63 },
      project_slug: { type: 'string', maxLength: 63 },
      task_uuid: { type: 'string', maxLength: 64 },
      started_at: { type: 'string', maxLength: 40 },
      description: { type: 'string', maxLength: 10_000 },
    },
  },
  'PUT /time-trackings/:id': {
    method: 'PUT',
    url: (w) => `/time-trackings/${w.timer}`,
    valid: () => ({ company_slug: 'CO_SLUG', project_slug: 'PR_SLUG' }),
    required: ['company_slug', 'project_slug'],
    fields: { company_slug: { type: 'string', maxLength: 63 }, project_slug: { type: 'string', maxLength: 63 } },
  },
  'POST /v1/api-keys': {
    method: 'POST',
    url: () => '/v1/api-keys',
    valid: () => ({ name: 'hostile key' }),
    required: ['name'],
    fields: {
      name: { type: 'string', maxLength: 100 },
      scopes: { type: 'array', maxItems: 10 },
      expires_in_days: { type: 'integer' },
      project_id: { type: 'string', maxLength: 64 },
    },
  },
};

interface Case {
  endpoint: string;
  what: string;
  /** An object is sent as JSON; a string is sent as the raw body. */
  body: unknown;
  form?: boolean;
  contentType?: string;
  /** Overrides the endpoint's URL (for hostile path ids). */
  url?: (w: World) => string;
  status: number | number[];
  code?: string | string[];
  /** The field the error must name; null: it must name none; undefined: not checked. */
  param?: string | null;
}

/** A JSON text with one member inserted verbatim (keys JSON.stringify would not let us write). */
function withRawMember(body: Record<string, unknown>, rawMember: string): string {
  // The raw member replaces any field of the same name (JSON.parse would keep the last duplicate).
  const replaced = JSON.parse(`{${rawMember}}`) as Record<string, unknown>;
  const rest = JSON.stringify(Object.fromEntries(Object.entries(body).filter(([k]) => !Object.hasOwn(replaced, k)))).slice(1);
  return `{${rawMember}${rest === '}' ? '}' : `,${rest}`}`;
}

const INTEGER_ATTACKS: Array<[string, string]> = [
  ['1e400 (overflows to Infinity)', '1e400'],
  ['-1e400', '-1e400'],
  ['2^53', '9007199254740992'],
  ['2^53 + 1', '9007199254740993'],
  ['2147483648 (past int4)', '2147483648'],
  ['a negative number', '-1'],
  ['a fraction', '1.5'],
  ['a numeric string', '"5"'],
  ['a boolean', 'true'],
  ['an object', '{"n":5}'],
];

function casesFor(name: string, e: Endpoint): Case[] {
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'endpoint'>) => cases.push({ endpoint: name, ...c });
  const valid = e.valid();

  // Malformed JSON and bodies that are not objects.
  add({ what: 'truncated JSON', body: JSON.stringify(valid).slice(0, -3), status: 400, code: 'MALFORMED_JSON', param: null });
  add({ what: 'JSON with a trailing comma', body: JSON.stringify(valid).replace(/}$/, ',}'), status: 400, code: 'MALFORMED_JSON', param: null });
  add({ what: 'single-quoted pseudo-JSON', body: "{'name': 'x'}", status: 400, code: 'MALFORMED_JSON', param: null });
  add({ what: 'two JSON documents', body: `${JSON.stringify(valid)}${JSON.stringify(valid)}`, status: 400, code: 'MALFORMED_JSON', param: null });
  add({ what: 'a JSON array body', body: '[]', status: 400 });
  add({ what: 'a JSON string body', body: '"hello"', status: 400 });
  add({ what: 'a JSON null body', body: 'null', status: 400 });
  add({ what: 'a JSON number body', body: '42', status: 400 });
  add({ what: 'JSON nested 40 levels deep', body: withRawMember(valid, `"deep":${'['.repeat(40)}${']'.repeat(40)}`), status: 400, code: 'BODY_TOO_DEEP' });
  add({ what: 'a body over 1 MiB', body: JSON.stringify({ ...valid, padding: 'x'.repeat(1_100_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' });
  add({ what: 'a JSON body sent as text/plain', body: JSON.stringify(valid), contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  add({ what: 'a JSON body sent as application/xml', body: JSON.stringify(valid), contentType: 'application/xml', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });

  // Unknown, dangerous and unrepresentable keys.
  add({ what: 'an unknown field', body: { ...valid, is_admin: true }, status: 400, param: 'is_admin' });
  add({ what: 'an unknown nested object', body: { ...valid, meta: { owner: true } }, status: 400, param: 'meta' });
  add({ what: 'a __proto__ key', body: withRawMember(valid, '"__proto__":{"is_instance_admin":true}'), status: 400, param: '__proto__' });
  add({ what: 'a constructor key', body: withRawMember(valid, '"constructor":{"prototype":{"admin":true}}'), status: 400, param: 'constructor' });
  add({ what: 'a prototype key', body: withRawMember(valid, '"prototype":{"admin":true}'), status: 400, param: 'prototype' });
  add({ what: 'a NUL byte in a key', body: { ...valid, 'na\u0000me': 'x' }, status: 400 });
  add({ what: 'a lone high surrogate as a key', body: { ...valid, '\ud800': 'x' }, status: 400 });
  add({ what: 'a lone low surrogate in a key', body: { ...valid, 'x\udc00': 'x' }, status: 400 });

  // Missing required fields.
  for (const field of e.required) {
    const rest = { ...valid };
    delete rest[field];
    add({ what: `missing ${field}`, body: rest, status: 400, code: 'VALIDATION_ERROR', param: field });
    add({ what: `${field}: null`, body: { ...valid, [field]: null }, status: 400, param: field });
  }
  if (e.required.length) add({ what: 'an empty object', body: {}, status: 400, param: e.required[0] });

  for (const [field, spec] of Object.entries(e.fields)) {
    if (spec.type === 'string') {
      add({ what: `${field}: a number`, body: { ...valid, [field]: 12345 }, status: 400, param: field });
      add({ what: `${field}: an object`, body: { ...valid, [field]: { $gt: '' } }, status: 400, param: field });
      add({ what: `${field}: an array`, body: { ...valid, [field]: ['a'] }, status: 400, param: field });
      add({ what: `${field}: a boolean`, body: { ...valid, [field]: true }, status: 400, param: field });
      add({ what: `${field} with a NUL byte`, body: { ...valid, [field]: 'ab\u0000cd' }, status: 400, code: 'INVALID_STRING', param: field });
      add({ what: `${field} with a lone high surrogate`, body: { ...valid, [field]: 'ab\ud800cd' }, status: 400, code: 'INVALID_STRING', param: field });
      add({ what: `${field} with a lone low surrogate`, body: { ...valid, [field]: '\udfffab' }, status: 400, code: 'INVALID_STRING', param: field });
      add({ what: `${field} as a raw-escaped lone surrogate`, body: withRawMember(valid, `"${field}":"x\\ud800"`), status: 400, param: field });
      if (spec.maxLength) {
        add({ what: `${field} one character too long`, body: { ...valid, [field]: 'a'.repeat(spec.maxLength + 1) }, status: 400, param: field });
        add({ what: `${field} 200,000 characters long`, body: { ...valid, [field]: 'a'.repeat(200_000) }, status: 400, param: field });
      }
    }
    if (spec.type === 'integer') {
      for (const [label, raw] of INTEGER_ATTACKS) {
        add({ what: `${field}: ${label}`, body: withRawMember(valid, `"${field}":${raw}`), status: 400, param: field });
      }
    }
    if (spec.type === 'array') {
      add({ what: `${field}: an object`, body: { ...valid, [field]: { 0: 'a' } }, status: 400, param: field });
      add({ what: `${field}: a string`, body: { ...valid, [field]: 'a' }, status: 400, param: field });
      add({ what: `${field}: an item of the wrong type`, body: { ...valid, [field]: [42] }, status: 400, param: `${field}[0]` });
      add({ what: `${field}: an item with a NUL byte`, body: { ...valid, [field]: ['a\u0000'] }, status: 400, param: `${field}[0]` });
      add({ what: `${field}: a nested array`, body: { ...valid, [field]: [['a']] }, status: 400, param: `${field}[0]` });
      if (spec.maxItems) {
        const items = Array.from({ length: spec.maxItems + 1 }, (_, i) => (field === 'scopes' ? (i % 2 ? 'read' : 'admin') : `l${i}`));
        add({ what: `${field} with ${spec.maxItems + 1} items (max ${spec.maxItems})`, body: { ...valid, [field]: items }, status: 400, param: field });
        add({ what: `${field} with 10,000 items`, body: { ...valid, [field]: Array.from({ length: 10_000 }, (_, i) => `x${i}`) }, status: 400, param: field });
      }
    }
    if (spec.type === 'enum') {
      add({ what: `${field}: an unknown value`, body: { ...valid, [field]: 'superuser' }, status: 400, param: field });
      add({ what: `${field}: a different case`, body: { ...valid, [field]: 'ADMIN' }, status: 400, param: field });
      add({ what: `${field}: a number`, body: { ...valid, [field]: 1 }, status: 400, param: field });
    }
  }
  return cases;
}

const SQL_TEXT = "'; drop table tasks; --";

/** Hostile ids, in the path and in the body. */
function idCases(): Case[] {
  const cases: Case[] = [];
  const long = (prefix: string) => `${prefix}_${'A'.repeat(300)}`;
  const paths: Array<[string, (w: World) => string, string, () => Record<string, unknown>]> = [
    ['PATCH /v1/tasks/:id', (w) => w.task, '/v1/tasks/{id}', () => ({ title: 'x' })],
    ['PUT /v1/tasks/:id', (w) => w.task, '/v1/tasks/{id}', () => ({ title: 'x' })],
    ['PATCH /v1/tasks/:id/move', (w) => w.task, '/v1/tasks/{id}/move', () => ({ status: 'done' })],
    ['POST /v1/projects/:id/tasks', (w) => w.proj, '/v1/projects/{id}/tasks', () => ({ title: 'x' })],
    ['PATCH /v1/projects/:id', (w) => w.proj, '/v1/projects/{id}', () => ({ name: unique('P ') })],
    ['POST /v1/workspaces/:id/projects', (w) => w.ws, '/v1/workspaces/{id}/projects', () => ({ name: unique('P ') })],
    ['PATCH /v1/workspaces/:id', (w) => w.ws, '/v1/workspaces/{id}', () => ({ name: unique('W ') })],
    ['POST /v1/workspaces/:id/members', (w) => w.ws, '/v1/workspaces/{id}/members', () => ({ email: `${unique('i')}@example.test` })],
    ['PATCH /v1/members/:id', (w) => w.mem, '/v1/members/{id}', () => ({ role: 'viewer' })],
    ['PATCH /v1/sprints/:id', (w) => w.spr, '/v1/sprints/{id}', () => ({ goal: 'x' })],
  ];
  for (const [endpoint, , template, body] of paths) {
    const at = (id: (w: World) => string) => (w: World) => template.replace('{id}', encodeURIComponent(id(w)));
    const ownKind = /\/(\w+)\/\{id\}/.exec(template)![1]!;
    const wrong: Record<string, (w: World) => string> = {
      tasks: (w) => w.proj,
      projects: (w) => w.task,
      workspaces: (w) => w.proj,
      members: (w) => w.owner.userId,
      sprints: (w) => w.task,
    };
    const other: Record<string, (w: World) => string> = {
      tasks: (w) => w.otherTask,
      projects: (w) => w.otherProj,
      workspaces: (w) => w.otherWs,
      members: (w) => w.otherMem,
      sprints: (w) => w.otherSpr,
    };
    cases.push(
      { endpoint, what: 'an id of the wrong type in the path', url: at(wrong[ownKind]!), body: body(), status: 404, code: 'NOT_FOUND' },
      { endpoint, what: "another workspace's id in the path", url: at(other[ownKind]!), body: body(), status: 404, code: 'NOT_FOUND' },
      { endpoint, what: 'a garbage id in the path', url: at(() => "x' or '1'='1"), body: body(), status: 404, code: 'NOT_FOUND' },
      { endpoint, what: 'an id with a NUL byte in the path', url: at(() => 'task_\u0000abc'), body: body(), status: [400, 404] },
      { endpoint, what: 'a 300-character id in the path', url: at(() => long('task')), body: body(), status: [400, 404, 414] },
      { endpoint, what: 'a malformed percent-encoding in the path', url: () => template.replace('{id}', 'task_%E0%A4%A'), body: body(), status: [400, 404] },
    );
  }
  // Ids inside bodies.
  const createTask = 'POST /v1/projects/:id/tasks';
  cases.push(
    { endpoint: createTask, what: 'assignee_id: a project id', body: { title: 'x', assignee_id: 'PROJ' }, status: 422, code: 'INVALID_ASSIGNEE', param: 'assignee_id' },
    { endpoint: createTask, what: "assignee_id: a user of another workspace only", body: { title: 'x', assignee_id: 'OTHER_USER' }, status: 422, code: 'INVALID_ASSIGNEE', param: 'assignee_id' },
    { endpoint: createTask, what: 'assignee_id: garbage', body: { title: 'x', assignee_id: SQL_TEXT }, status: 422, param: 'assignee_id' },
    { endpoint: createTask, what: 'assignee_id: 300 characters', body: { title: 'x', assignee_id: long('user') }, status: 400, param: 'assignee_id' },
    { endpoint: createTask, what: "sprint_id: another workspace's sprint", body: { title: 'x', sprint_id: 'OTHER_SPR' }, status: 422, code: 'INVALID_SPRINT', param: 'sprint_id' },
    { endpoint: createTask, what: 'sprint_id: a task id', body: { title: 'x', sprint_id: 'TASK' }, status: 422, code: 'INVALID_SPRINT', param: 'sprint_id' },
    { endpoint: createTask, what: 'sprint_id: 300 characters', body: { title: 'x', sprint_id: long('spr') }, status: 400, param: 'sprint_id' },
    { endpoint: createTask, what: 'status: not in the workflow', body: { title: 'x', status: SQL_TEXT }, status: 422, code: 'INVALID_STATUS', param: 'status' },
    { endpoint: createTask, what: 'due_date: not a date', body: { title: 'x', due_date: '2026-02-30x' }, status: 400, param: 'due_date' },
    { endpoint: createTask, what: 'due_date: an impossible date', body: { title: 'x', due_date: '2026-02-31' }, status: [400, 422], param: 'due_date' },
    { endpoint: createTask, what: 'due_date: a year past 9999', body: { title: 'x', due_date: '99999-01-01' }, status: 400, param: 'due_date' },
    { endpoint: 'PATCH /v1/tasks/:id', what: "assignee_id: a user of another workspace only", body: { assignee_id: 'OTHER_USER' }, status: 422, code: 'INVALID_ASSIGNEE', param: 'assignee_id' },
    { endpoint: 'PATCH /v1/tasks/:id/move', what: 'status: not in the workflow', body: { status: 'nope' }, status: 422, code: 'INVALID_STATUS', param: 'status' },
    { endpoint: 'POST /v1/api-keys', what: 'project_id: a task id', body: { name: 'k', project_id: 'TASK' }, status: 422, param: 'project_id' },
    { endpoint: 'POST /v1/api-keys', what: "project_id: another workspace's project", body: { name: 'k', project_id: 'OTHER_PROJ' }, status: 422, param: 'project_id' },
    { endpoint: 'POST /v1/api-keys', what: 'project_id: garbage', body: { name: 'k', project_id: SQL_TEXT }, status: 422, param: 'project_id' },
    { endpoint: 'POST /v1/api-keys', what: 'project_id: 300 characters', body: { name: 'k', project_id: long('proj') }, status: 400, param: 'project_id' },
    { endpoint: 'POST /v1/api-keys', what: 'expires_in_days: 0', body: { name: 'k', expires_in_days: 0 }, status: 400, param: 'expires_in_days' },
    { endpoint: 'POST /v1/api-keys', what: 'expires_in_days: 366', body: { name: 'k', expires_in_days: 366 }, status: 400, param: 'expires_in_days' },
    { endpoint: 'POST /v1/api-keys', what: 'expires_at: not a date-time', body: { name: 'k', expires_at: 'tomorrow' }, status: 400, param: 'expires_at' },
    { endpoint: 'POST /v1/api-keys', what: 'expires_at: in the past', body: { name: 'k', expires_at: '2000-01-01T00:00:00Z' }, status: 422, param: 'expires_at' },
    { endpoint: 'POST /v1/api-keys', what: 'expires_at: past 365 days', body: { name: 'k', expires_at: '2999-01-01T00:00:00Z' }, status: 422, param: 'expires_at' },
    { endpoint: 'POST /v1/api-keys', what: 'scopes: empty', body: { name: 'k', scopes: [] }, status: 400, param: 'scopes' },
    { endpoint: 'POST /v1/api-keys', what: 'scopes: unknown scope', body: { name: 'k', scopes: ['root'] }, status: 400, param: 'scopes[0]' },
    { endpoint: 'POST /v1/api-keys', what: 'scopes: duplicates', body: { name: 'k', scopes: ['read', 'read'] }, status: 400, param: 'scopes' },
    { endpoint: 'POST /v1/workspaces/:id/members', what: 'email: not an email', body: { email: SQL_TEXT }, status: 400, param: 'email' },
    { endpoint: 'POST /v1/workspaces/:id/members', what: 'email: an existing member', body: { email: 'MEMBER_EMAIL' }, status: 409, code: 'ALREADY_MEMBER', param: 'email' },
    { endpoint: 'POST /v1/workspaces', what: 'time_zone: unknown', body: { name: unique('W '), time_zone: 'Mars/Olympus' }, status: 422, param: 'time_zone' },
    { endpoint: 'POST /v1/time-entries', what: "task_id: another workspace's task", body: { task_id: 'OTHER_TASK', duration_minutes: 5 }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /v1/time-entries', what: 'task_id: a project id', body: { task_id: 'PROJ', duration_minutes: 5 }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /v1/time-entries', what: 'task_id: SQL text', body: { task_id: SQL_TEXT, duration_minutes: 5 }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /v1/time-entries', what: 'end before start', body: { task_id: 'TASK', started_at: '2026-02-06T16:00:00Z', ended_at: '2026-02-06T15:00:00Z' }, status: 422, param: 'ended_at' },
    { endpoint: 'POST /v1/time-entries', what: 'a 25-hour entry', body: { task_id: 'TASK', started_at: '2026-02-06T00:00:00Z', ended_at: '2026-02-07T01:00:00Z' }, status: 422, code: 'ENTRY_TOO_LONG', param: 'ended_at' },
    { endpoint: 'POST /v1/time-entries', what: 'started_at without an offset', body: { task_id: 'TASK', started_at: '2026-02-06T14:00:00', ended_at: '2026-02-06T15:00:00Z' }, status: 400, param: 'started_at' },
    { endpoint: 'POST /v1/time-entries', what: 'started_at: an impossible time', body: { task_id: 'TASK', started_at: '2026-02-06T25:00:00Z', ended_at: '2026-02-06T15:00:00Z' }, status: 400, param: 'started_at' },
    { endpoint: 'POST /v1/time-entries', what: 'date: an impossible date', body: { task_id: 'TASK', duration_minutes: 5, date: '2026-02-30' }, status: [400, 422], param: 'date' },
    { endpoint: 'POST /v1/time-entries', what: 'duration_minutes: 0', body: { task_id: 'TASK', duration_minutes: 0 }, status: 400, param: 'duration_minutes' },
    { endpoint: 'POST /v1/time-entries', what: 'duration_minutes: 1441', body: { task_id: 'TASK', duration_minutes: 1441 }, status: 400, param: 'duration_minutes' },
    { endpoint: 'PATCH /v1/time-entries/:id', what: 'ended_at before started_at', body: { ended_at: '2000-01-01T00:00:00Z' }, status: 422, param: 'ended_at' },
    { endpoint: 'POST /time-trackings', what: 'an unknown company_slug', body: { company_slug: 'no-such-company', project_slug: 'PR_SLUG', task_uuid: 'TASK_UUID' }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /time-trackings', what: 'task_uuid: not a uuid', body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG', task_uuid: SQL_TEXT }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /time-trackings', what: 'a second running timer', body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG', task_uuid: 'TASK_UUID' }, status: 409, code: 'TIMER_ALREADY_RUNNING' },
    { endpoint: 'POST /time-trackings', what: 'ended_at without started_at', body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG', task_uuid: 'TASK_UUID', ended_at: '2026-02-06T15:00:00Z' }, status: 400, param: 'started_at' },
    { endpoint: 'PUT /time-trackings/:id', what: 'an entry that is not running', url: (w) => `/time-trackings/${w.entry}`, body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG' }, status: 409, code: 'TIMER_NOT_RUNNING' },
    { endpoint: 'PUT /time-trackings/:id', what: 'a garbage id', url: () => `/time-trackings/${encodeURIComponent("1' or '1'='1")}`, body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG' }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'PUT /time-trackings/:id', what: 'an id past bigint', url: () => '/time-trackings/99999999999999999999999', body: { company_slug: 'CO_SLUG', project_slug: 'PR_SLUG' }, status: 404, code: 'NOT_FOUND' },
    { endpoint: 'POST /v1/workspaces', what: 'slug: SQL text', body: { name: unique('W '), slug: SQL_TEXT }, status: 400, param: 'slug' },
    { endpoint: 'POST /v1/workspaces/:id/projects', what: 'slug: uppercase and spaces', body: { name: unique('P '), slug: 'Not A Slug' }, status: 400, param: 'slug' },
  );
  return cases;
}

/** Placeholders in body-id cases, resolved once the world exists. */
function resolveIds(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const map: Record<string, string> = {
    PROJ: w.proj,
    TASK: w.task,
    OTHER_USER: w.otherOwner.userId,
    OTHER_PROJ: w.otherProj,
    OTHER_TASK: w.otherTask,
    OTHER_SPR: w.otherSpr,
    MEMBER_EMAIL: w.member.email,
    TASK_UUID: w.taskUuid,
    CO_SLUG: w.companySlug,
    PR_SLUG: w.projectSlug,
  };
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' && map[v] ? map[v] : v]));
}

function formCases(): Case[] {
  const createTask = 'POST /v1/projects/:id/tasks';
  const f = (endpoint: string, what: string, body: string, param: string | null, code?: string): Case => ({ endpoint, what: `form: ${what}`, body, form: true, status: 400, param, code });
  const labels = (n: number) => Array.from({ length: n }, (_, i) => `labels[]=l${i}`).join('&');
  return [
    f(createTask, 'a NUL byte in a value', 'title=a%00b', 'title', 'INVALID_STRING'),
    f(createTask, 'a NUL byte in a key', 'title=x&ti%00tle=y', null),
    f(createTask, 'a non-numeric integer', 'title=x&estimated_minutes=abc', 'estimated_minutes'),
    f(createTask, '1e400', 'title=x&estimated_minutes=1e400', 'estimated_minutes'),
    f(createTask, 'Infinity', 'title=x&estimated_minutes=Infinity', 'estimated_minutes'),
    f(createTask, '2^53', 'title=x&estimated_minutes=9007199254740992', 'estimated_minutes'),
    f(createTask, '2147483648', 'title=x&estimated_minutes=2147483648', 'estimated_minutes'),
    f(createTask, 'a negative integer', 'title=x&estimated_minutes=-1', 'estimated_minutes'),
    f(createTask, 'a fraction', 'title=x&estimated_minutes=1.5', 'estimated_minutes'),
    f(createTask, 'an unknown field', 'title=x&is_admin=1', 'is_admin'),
    f(createTask, 'a missing required field', 'description=x', 'title'),
    f(createTask, 'an over-long string', `title=${'a'.repeat(501)}`, 'title'),
    f(createTask, 'too many labels', `title=x&${labels(51)}`, 'labels'),
    f(createTask, 'an array for a string', 'title[]=a&title[]=b', 'title'),
    f(createTask, 'an object for a string', 'title[k]=v', 'title'),
    f(createTask, 'an object for an array', 'title=x&labels[k]=v', 'labels'),
    f(createTask, 'a __proto__ key', 'title=x&__proto__[is_instance_admin]=true', '__proto__'),
    f(createTask, 'a constructor key', 'title=x&constructor[prototype][admin]=1', 'constructor'),
    f(createTask, 'an unknown priority', 'title=x&priority=critical', 'priority'),
    f('POST /v1/workspaces', 'a NUL byte in the name', 'name=a%00b', 'name', 'INVALID_STRING'),
    f('POST /v1/workspaces', 'an over-long name', `name=${'n'.repeat(101)}`, 'name'),
    f('POST /v1/workspaces/:id/members', 'an unknown role', 'email=someone%40example.test&role=god', 'role'),
    f('POST /v1/api-keys', 'expires_in_days 1e400', 'name=k&expires_in_days=1e400', 'expires_in_days'),
    f('POST /v1/api-keys', 'an unknown scope', 'name=k&scopes[]=root', 'scopes[0]'),
    f('PATCH /v1/tasks/:id/move', 'a negative position', 'status=todo&position=-5', 'position'),
    f('PATCH /v1/tasks/:id/move', 'a huge position', 'status=todo&position=2147483648', 'position'),
  ];
}

const ALL_CASES: Case[] = [...Object.entries(ENDPOINTS).flatMap(([name, e]) => casesFor(name, e)), ...idCases(), ...formCases()];

function expectEnvelope(res: Response, c: Case): void {
  const where = `${c.endpoint} with ${c.what}: ${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, where).toBeLessThan(500);
  const statuses = Array.isArray(c.status) ? c.status : [c.status];
  expect(statuses, where).toContain(res.status);
  expect(String(res.headers['content-type']), where).toContain('application/json');
  const error = (res.body as { error?: { code?: unknown; message?: unknown; param?: unknown } }).error;
  expect(typeof error === 'object' && error !== null, `not the error envelope: ${where}`).toBe(true);
  expect(error!.code, where).toMatch(/^[A-Z][A-Z0-9_]*$/);
  expect(typeof error!.message === 'string' && error!.message.length > 0, where).toBe(true);
  if (c.code !== undefined) expect(Array.isArray(c.code) ? c.code : [c.code], where).toContain(error!.code);
  if (c.param === null) expect(error!.param, where).toBeUndefined();
  else if (c.param !== undefined) expect(error!.param, where).toBe(c.param);
  expect(res.headers['x-request-id'], `no X-Request-Id: ${where}`).toBeTruthy();
}

describe('hostile input', () => {
  it('covers every write endpoint with enough cases', () => {
    const byEndpoint = new Map<string, number>();
    for (const c of ALL_CASES) byEndpoint.set(c.endpoint, (byEndpoint.get(c.endpoint) ?? 0) + 1);
    expect([...byEndpoint.keys()].sort()).toEqual(Object.keys(ENDPOINTS).sort());
    for (const [endpoint, n] of byEndpoint) expect(n, endpoint).toBeGreaterThanOrEqual(15);
  });

  it.each(ALL_CASES.map((c) => [`${c.endpoint}: ${c.what}`, c] as const))('%s is a clear 4xx that changes nothing', async (_name, c) => {
    const e = ENDPOINTS[c.endpoint]!;
    const before = await fingerprint(t.database.db);
    const res = await t.request({
      method: e.method,
      url: (c.url ?? e.url)(w),
      key: w.owner.key,
      body: typeof c.body === 'string' ? c.body : resolveIds(c.body),
      form: c.form,
      headers: typeof c.body === 'string' && !c.form ? { 'content-type': c.contentType ?? 'application/json' } : undefined,
    });
    expectEnvelope(res, c);
    expect(await fingerprint(t.database.db), `${c.endpoint} with ${c.what} changed the database`).toEqual(before);
  });

  it('the valid body of every endpoint is accepted, so each hostile case fails for the one thing it breaks', async () => {
    for (const [name, e] of Object.entries(ENDPOINTS)) {
      const before = await fingerprint(t.database.db);
      const res = await t.request({ method: e.method, url: e.url(w), key: w.owner.key, body: resolveIds(e.valid()) });
      expect(res.status, `${name}: ${res.text}`).toBeLessThan(300);
      // ...and the fingerprint sees the change, so "changed nothing" above is a real check.
      expect(await fingerprint(t.database.db), name).not.toEqual(before);
    }
    // Put the member back for later cases that expect a `member` role (order-independent anyway).
    const back = await t.request({ method: 'PATCH', url: `/v1/members/${w.mem}`, key: w.owner.key, body: { role: 'member' } });
    expect(back.status).toBe(200);
  });

  it("an id from another workspace answers exactly like a nonexistent id, in the path and in a body", async () => {
    const pairs: Array<[string, string, string, (id: string) => unknown]> = [
      ['PATCH', `/v1/tasks/${w.otherTask}`, `/v1/tasks/task_${base62(16)}`, () => ({ title: 'x' })],
      ['POST', `/v1/projects/${w.otherProj}/tasks`, `/v1/projects/proj_${base62(16)}/tasks`, () => ({ title: 'x' })],
      ['PATCH', `/v1/members/${w.otherMem}`, `/v1/members/mem_${base62(16)}`, () => ({ role: 'viewer' })],
      ['PATCH', `/v1/sprints/${w.otherSpr}`, `/v1/sprints/spr_${base62(16)}`, () => ({ goal: 'x' })],
      ['POST', `/v1/projects/${w.otherProj}/sprints`, `/v1/projects/proj_${base62(16)}/sprints`, () => ({ name: 'x' })],
      ['POST', `/v1/workspaces/${w.otherWs}/members`, `/v1/workspaces/ws_${base62(16)}/members`, () => ({ email: 'same@example.test' })],
    ];
    for (const [method, theirs, missing, body] of pairs) {
      const a = await t.request({ method, url: theirs, key: w.owner.key, body: body('') });
      const b = await t.request({ method, url: missing, key: w.owner.key, body: body('') });
      expect(a.status, theirs).toBe(404);
      expect(a.text, theirs).toBe(b.text);
    }
    const theirSprint = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'x', sprint_id: w.otherSpr } });
    const missingSprint = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'x', sprint_id: `spr_${base62(16)}` } });
    expect(theirSprint.status).toBe(422);
    expect(theirSprint.text).toBe(missingSprint.text);
    const theirs = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'x', assignee_id: w.otherOwner.userId } });
    const missing = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'x', assignee_id: `user_${base62(16)}` } });
    expect(theirs.status).toBe(422);
    expect(theirs.text).toBe(missing.text);
    const key1 = await t.request({ method: 'POST', url: '/v1/api-keys', key: w.owner.key, body: { name: 'k', project_id: w.otherProj } });
    const key2 = await t.request({ method: 'POST', url: '/v1/api-keys', key: w.owner.key, body: { name: 'k', project_id: `proj_${base62(16)}` } });
    expect(key1.status).toBe(422);
    expect(key1.text).toBe(key2.text);
  });
});

describe('text that looks dangerous but is valid', () => {
  const tricky = [SQL_TEXT, "Robert'); DROP TABLE students;--", '1 OR 1=1', '$1 $2 %s %d {{x}} ${x}', '<script>alert(1)</script>', '😀 emoji (a valid surrogate pair) and ümlauts', '\\x00 not a real NUL', 'back\\slash "quotes" \n newline\ttab'];

  it.each(tricky)('a task stores %j verbatim in every text field and returns it as is', async (text) => {
    const created = await t.request({
      method: 'POST',
      url: `/v1/projects/${w.proj}/tasks`,
      key: w.owner.key,
      body: { title: text, description: text, labels: [text.slice(0, 50)] },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data.title).toBe(text);
    expect(created.body.data.description).toBe(text);
    expect(created.body.data.labels).toEqual([text.slice(0, 50)]);
    const fetched = await t.request({ url: `/v1/tasks/${created.body.data.id}`, key: w.owner.key });
    expect(fetched.body.data.title).toBe(text);
    expect(fetched.body.data.description).toBe(text);
    // Filtering by it finds exactly this task, and the table is still there.
    const byLabel = await t.request({ url: `/v1/projects/${w.proj}/tasks?label=${encodeURIComponent(text.slice(0, 50))}`, key: w.owner.key });
    if (!text.slice(0, 50).includes(',')) {
      expect(byLabel.body.data.map((x: { id: string }) => x.id)).toContain(created.body.data.id);
      // A page decodes its rows apart from a single read (non-ASCII answers take another path).
      const listed = byLabel.body.data.find((x: { id: string }) => x.id === created.body.data.id);
      expect(listed).toEqual(fetched.body.data);
    }
    const count = await t.database.db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBeGreaterThan(0);
  });

  it('SQL-looking text is stored verbatim in workspace, project, member and key names', async () => {
    const ws = await t.request({ method: 'POST', url: '/v1/workspaces', key: w.owner.key, body: { name: SQL_TEXT } });
    expect(ws.status, ws.text).toBe(201);
    expect(ws.body.data.name).toBe(SQL_TEXT);
    expect(ws.body.data.slug).toMatch(/^[a-z0-9-]+$/);
    const proj = await t.request({ method: 'POST', url: `/v1/workspaces/${ws.body.data.id}/projects`, key: w.owner.key, body: { name: SQL_TEXT, description: SQL_TEXT } });
    expect(proj.status, proj.text).toBe(201);
    expect(proj.body.data.name).toBe(SQL_TEXT);
    expect(proj.body.data.description).toBe(SQL_TEXT);
    const member = await t.request({ method: 'POST', url: `/v1/workspaces/${ws.body.data.id}/members`, key: w.owner.key, body: { email: `${unique('sql')}@example.test`, name: SQL_TEXT } });
    expect(member.status, member.text).toBe(201);
    expect(member.body.data.user.name).toBe(SQL_TEXT);
    const key = await t.request({ method: 'POST', url: '/v1/api-keys', key: w.owner.key, body: { name: SQL_TEXT, scopes: ['read'] } });
    expect(key.status, key.text).toBe(201);
    expect(key.body.data.name).toBe(SQL_TEXT);
    const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name = 'tasks'`.execute(t.database.db);
    expect(tables.rows[0]!.n).toBe(1);
  });

  it('SQL-looking query parameters are a 400 naming the parameter or a harmless empty result', async () => {
    const sort = await t.request({ url: `/v1/projects/${w.proj}/tasks?sort=${encodeURIComponent('title; drop table tasks')}`, key: w.owner.key });
    expect(sort.status).toBe(400);
    expect(sort.body.error.param).toBe('sort');
    const status = await t.request({ url: `/v1/projects/${w.proj}/tasks?status=${encodeURIComponent("x' or '1'='1")}`, key: w.owner.key });
    expect(status.status).toBe(200);
    expect(status.body.data).toEqual([]);
    const page = await t.request({ url: `/v1/projects/${w.proj}/tasks?page=1e400`, key: w.owner.key });
    expect(page.status).toBe(400);
    expect(page.body.error.param).toBe('page');
    const perPage = await t.request({ url: `/v1/projects/${w.proj}/tasks?per_page=-1`, key: w.owner.key });
    expect(perPage.status).toBe(400);
    expect(perPage.body.error.param).toBe('per_page');
  });

  it('numbers at the edge of their range are accepted exactly', async () => {
    const max = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'edge', estimated_minutes: 1_000_000 } });
    expect(max.status, max.text).toBe(201);
    expect(max.body.data.estimated_minutes).toBe(1_000_000);
    const zero = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'edge', estimated_minutes: 0 } });
    expect(zero.status, zero.text).toBe(201);
    expect(zero.body.data.estimated_minutes).toBe(0);
    const over = await t.request({ method: 'POST', url: `/v1/projects/${w.proj}/tasks`, key: w.owner.key, body: { title: 'edge', estimated_minutes: 1_000_001 } });
    expect(over.status).toBe(400);
    expect(over.body.error.param).toBe('estimated_minutes');
  });
});

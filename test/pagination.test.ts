// List conventions: page/per_page/limit with full meta and a Link header, sort/order, the task
// filters and include=.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type Response, type TestApp } from './app.ts';
import { addMember, makeProject, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

/** A clock that can be pinned to an instant, so tasks get the created_at a test needs. */
function settableClock() {
  let fixed: Date | null = null;
  return {
    now: () => (fixed ? new Date(fixed) : new Date()),
    set(iso: string | null) {
      fixed = iso === null ? null : new Date(iso);
    },
  };
}

const clock = settableClock();
let t: TestApp;
let owner: Actor;
let member: Actor;
let workspace: any;
/** 30 tasks, numbered 1..30. */
let bigProject: any;
/** Five tasks with known fields and creation times. */
let small: any;
const T: Record<'A' | 'B' | 'C' | 'D' | 'E', any> = {} as never;

beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  const world = await makeWorld(t);
  owner = world.owner;
  workspace = world.workspace;
  bigProject = world.project;
  member = await makeUser(t);
  await addMember(t, owner, workspace.id, member, 'member');
  for (let i = 1; i <= 30; i++) await makeTask(t, owner, bigProject.id, { title: `Big ${String(i).padStart(2, '0')}` });

  small = await makeProject(t, owner, workspace.id);
  const specs: Array<[keyof typeof T, string, Record<string, unknown>]> = [
    ['A', '2026-01-10T10:00:00Z', { title: 'Charlie', priority: 'urgent', labels: ['a'], assignee_id: member.userId, status: 'todo', due_date: '2026-05-01' }],
    ['B', '2026-02-10T10:00:00Z', { title: 'Alpha', priority: 'low', labels: ['a', 'b'], assignee_id: owner.userId, status: 'in_progress', due_date: '2026-02-01' }],
    ['C', '2026-03-10T10:00:00Z', { title: 'Echo', priority: 'high', labels: ['b', 'c'], status: 'backlog' }],
    ['D', '2026-04-10T10:00:00Z', { title: 'Bravo', priority: 'medium', labels: ['a', 'b', 'c'], status: 'done', due_date: '2026-03-15' }],
    ['E', '2026-05-10T10:00:00Z', { title: 'Delta', priority: 'low', labels: [], assignee_id: member.userId, status: 'todo', due_date: '2026-01-15' }],
  ];
  try {
    for (const [name, at, body] of specs) {
      clock.set(at);
      T[name] = await makeTask(t, owner, small.id, body);
    }
    clock.set('2026-06-01T00:00:00Z');
    const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${T.B.id}`, key: owner.key, body: { description: 'touched' } });
    expect(res.status).toBe(200);
  } finally {
    clock.set(null);
  }
});
afterAll(async () => {
  await t?.close();
});

function parseLink(header: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of String(header ?? '').split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part.trim());
    // Links may be absolute or relative; tests follow them through inject by path and query.
    if (m) {
      const u = new URL(m[1]!, 'http://sprintlane.test');
      out[m[2]!] = `${u.pathname}${u.search}`;
    }
  }
  return out;
}

function pageOf(url: string): { page: number; perPage: number } {
  const q = new URLSearchParams(url.split('?')[1] ?? '');
  return { page: Number(q.get('page')), perPage: Number(q.get('per_page')) };
}

async function list(query: string, url = `/v1/projects/${small.id}/tasks`) {
  const res = await t.request({ url: `${url}${query ? `?${query}` : ''}`, key: owner.key });
  return res;
}

/** The letters of the small project's tasks, in the order the server returned them. */
async function letters(query: string): Promise<string[]> {
  const res = await list(query);
  expect(res.status, `${query}: ${res.text}`).toBe(200);
  const byId = new Map(Object.entries(T).map(([k, v]) => [v.id as string, k]));
  return (res.body.data as Array<{ id: string }>).map((x) => byId.get(x.id) ?? '?');
}

describe('page, per_page and limit', () => {
  it('defaults to page 1 with 25 per page and full meta', async () => {
    const res = await list('', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(25);
    expect(res.body.meta).toEqual({ page: 1, per_page: 25, total: 30, count: 25, current_page: 1, total_pages: 2 });
  });

  it('page 2 holds the rest, and count says how many are on this page', async () => {
    const res = await list('page=2', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.body.data).toHaveLength(5);
    expect(res.body.meta).toEqual({ page: 2, per_page: 25, total: 30, count: 5, current_page: 2, total_pages: 2 });
  });

  it('limit is accepted as an alias of per_page', async () => {
    const res = await list('limit=7', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(7);
    expect(res.body.meta).toMatchObject({ per_page: 7, total: 30, count: 7, total_pages: 5 });
    expect(pageOf(parseLink(res.headers.link).next!)).toEqual({ page: 2, perPage: 7 });
  });

  it('per_page may be 100', async () => {
    const res = await list('per_page=100', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(30);
    expect(res.body.meta).toMatchObject({ per_page: 100, total_pages: 1, count: 30 });
  });

  it('per_page above 100 is a 400 naming per_page', async () => {
    const res = await list('per_page=101', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('per_page');
  });

  it('limit above 100 is a 400 naming limit', async () => {
    const res = await list('limit=101', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('limit');
  });

  it('zero, negative and non-numeric page values are 400s naming the parameter', async () => {
    for (const [query, param] of [
      ['per_page=0', 'per_page'],
      ['page=0', 'page'],
      ['page=-1', 'page'],
      ['page=abc', 'page'],
      ['per_page=1.5', 'per_page'],
      ['page=99999999999999999999', 'page'],
    ] as const) {
      const res = await list(query, `/v1/projects/${bigProject.id}/tasks`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.param, query).toBe(param);
    }
  });

  it('a page past the end is empty but keeps the totals', async () => {
    const res = await list('page=9&per_page=10', `/v1/projects/${bigProject.id}/tasks`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
    expect(res.body.meta).toMatchObject({ page: 9, count: 0, total: 30, total_pages: 3 });
  });

  it('every list endpoint carries the full meta and a Link header', async () => {
    const urls = [
      '/v1/workspaces',
      `/v1/workspaces/${workspace.id}/projects`,
      `/v1/workspaces/${workspace.id}/members`,
      `/v1/projects/${bigProject.id}/tasks`,
      '/v1/tasks',
      '/v1/api-keys',
    ];
    for (const url of urls) {
      const res = await t.request({ url: `${url}?per_page=1`, key: owner.key });
      expect(res.status, url).toBe(200);
      expect(Object.keys(res.body.meta).sort(), url).toEqual(['count', 'current_page', 'page', 'per_page', 'total', 'total_pages']);
      expect(res.body.meta.per_page, url).toBe(1);
      expect(res.body.meta.count, url).toBe(res.body.data.length);
      expect(res.body.meta.total_pages, url).toBe(Math.max(1, res.body.meta.total));
      const links = parseLink(res.headers.link);
      expect(links.first, url).toBeDefined();
      expect(links.last, url).toBeDefined();
    }
    const users = await t.request({ url: '/v1/admin/users?per_page=2', key: t.adminKey });
    expect(users.status).toBe(200);
    expect(users.body.meta).toMatchObject({ per_page: 2, count: 2 });
    expect(parseLink(users.headers.link).next).toBeDefined();
  });
});

describe('Link header', () => {
  const base = () => `/v1/projects/${bigProject.id}/tasks`;

  it('on the first page: first, next and last, no prev', async () => {
    const res = await list('per_page=10&sort=number&order=asc', base());
    const links = parseLink(res.headers.link);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next']);
    expect(pageOf(links.first!)).toEqual({ page: 1, perPage: 10 });
    expect(pageOf(links.next!)).toEqual({ page: 2, perPage: 10 });
    expect(pageOf(links.last!)).toEqual({ page: 3, perPage: 10 });
  });

  it('on a middle page: first, prev, next and last', async () => {
    const res = await list('per_page=10&page=2&sort=number&order=asc', base());
    const links = parseLink(res.headers.link);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next', 'prev']);
    expect(pageOf(links.first!).page).toBe(1);
    expect(pageOf(links.prev!).page).toBe(1);
    expect(pageOf(links.next!).page).toBe(3);
    expect(pageOf(links.last!).page).toBe(3);
  });

  it('on the last page: first, prev and last, no next', async () => {
    const res = await list('per_page=10&page=3&sort=number&order=asc', base());
    const links = parseLink(res.headers.link);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'prev']);
    expect(pageOf(links.prev!).page).toBe(2);
    expect(pageOf(links.last!).page).toBe(3);
  });

  it('links keep the other query parameters and point at this path', async () => {
    const res = await list('per_page=10&sort=number&order=asc&priority=medium', base());
    for (const url of Object.values(parseLink(res.headers.link))) {
      expect(url.split('?')[0]).toBe(base());
      const q = new URLSearchParams(url.split('?')[1]);
      expect(q.get('sort')).toBe('number');
      expect(q.get('order')).toBe('asc');
      expect(q.get('priority')).toBe('medium');
    }
  });

  it('following next from the first page visits every item exactly once', async () => {
    let url: string | undefined = `${base()}?per_page=7&sort=number&order=asc`;
    const seen: number[] = [];
    let pages = 0;
    while (url && pages < 20) {
      const res: Response = await t.request({ url, key: owner.key });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((x: { number: number }) => x.number));
      url = parseLink(res.headers.link).next;
      pages++;
    }
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

describe('sort and order', () => {
  it('lists newest first by default', async () => {
    expect(await letters('')).toEqual(['E', 'D', 'C', 'B', 'A']);
  });

  it('sorts by created_at in both directions', async () => {
    expect(await letters('sort=created_at&order=asc')).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(await letters('sort=created_at&order=desc')).toEqual(['E', 'D', 'C', 'B', 'A']);
  });

  it('sorts by number', async () => {
    expect(await letters('sort=number&order=asc')).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(await letters('sort=number&order=desc')).toEqual(['E', 'D', 'C', 'B', 'A']);
  });

  it('sorts by title', async () => {
    expect(await letters('sort=title&order=asc')).toEqual(['B', 'D', 'A', 'E', 'C']);
    expect(await letters('sort=title&order=desc')).toEqual(['C', 'E', 'A', 'D', 'B']);
  });

  it('sorts priority by rank (low < medium < high < urgent), not alphabetically', async () => {
    const asc = await list('sort=priority&order=asc');
    expect(asc.body.data.map((x: { priority: string }) => x.priority)).toEqual(['low', 'low', 'medium', 'high', 'urgent']);
    const desc = await list('sort=priority&order=desc');
    expect(desc.body.data.map((x: { priority: string }) => x.priority)).toEqual(['urgent', 'high', 'medium', 'low', 'low']);
  });

  it('sorts by due_date', async () => {
    const asc = (await letters('sort=due_date&order=asc')).filter((l) => l !== 'C');
    expect(asc).toEqual(['E', 'B', 'D', 'A']);
    const desc = (await letters('sort=due_date&order=desc')).filter((l) => l !== 'C');
    expect(desc).toEqual(['A', 'D', 'B', 'E']);
  });

  it('an unknown sort field is a 400 naming sort', async () => {
    for (const sort of ['bogus', 'secret_hash', 'title;drop table tasks', 'created_at desc']) {
      const res = await list(`sort=${encodeURIComponent(sort)}`);
      expect(res.status, sort).toBe(400);
      expect(res.body.error.param, sort).toBe('sort');
    }
  });

  it('an unknown order is a 400 naming order', async () => {
    const res = await list('sort=title&order=sideways');
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('order');
  });

  it('sorting works on the cross-project task list too', async () => {
    const res = await t.request({ url: `/v1/tasks?project=${small.id}&sort=title&order=asc`, key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.map((x: { title: string }) => x.title)).toEqual(['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']);
  });
});

describe('filters', () => {
  const sorted = async (query: string) => (await letters(`${query}&sort=number&order=asc`));

  it('status filters by one status or a comma list', async () => {
    expect(await sorted('status=todo')).toEqual(['A', 'E']);
    expect(await sorted('status=todo,done')).toEqual(['A', 'D', 'E']);
    expect(await sorted('status=review')).toEqual([]);
  });

  it('assignee filters by user id, and none means unassigned', async () => {
    expect(await sorted(`assignee=${owner.userId}`)).toEqual(['B']);
    expect(await sorted(`assignee=${member.userId}`)).toEqual(['A', 'E']);
    expect(await sorted('assignee=none')).toEqual(['C', 'D']);
  });

  it('label with a comma list requires every label', async () => {
    expect(await sorted('label=a')).toEqual(['A', 'B', 'D']);
    expect(await sorted('label=a,b')).toEqual(['B', 'D']);
    expect(await sorted('label=a,b,c')).toEqual(['D']);
    expect(await sorted('label=zzz')).toEqual([]);
  });

  it('priority filters by one priority or a comma list, and an unknown one is a 400', async () => {
    expect(await sorted('priority=low')).toEqual(['B', 'E']);
    expect(await sorted('priority=high,urgent')).toEqual(['A', 'C']);
    const bad = await list('priority=extreme');
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('priority');
  });

  it('created_after and created_before accept ISO dates', async () => {
    expect(await sorted('created_after=2026-03-01')).toEqual(['C', 'D', 'E']);
    expect(await sorted('created_before=2026-03-01')).toEqual(['A', 'B']);
    expect(await sorted('created_after=2026-02-01&created_before=2026-04-01')).toEqual(['B', 'C']);
  });

  it('created_after honours the offset of a date-time', async () => {
    // 11:30+02:00 is 09:30Z, before B (10:00Z); 13:00+02:00 is 11:00Z, after it.
    expect(await sorted(`created_after=${encodeURIComponent('2026-02-10T11:30:00+02:00')}`)).toEqual(['B', 'C', 'D', 'E']);
    expect(await sorted(`created_after=${encodeURIComponent('2026-02-10T13:00:00+02:00')}`)).toEqual(['C', 'D', 'E']);
    expect(await sorted('created_before=2026-02-10T09:59:00Z')).toEqual(['A']);
  });

  it('updated_after finds tasks changed since then', async () => {
    expect(await sorted('updated_after=2026-05-20')).toEqual(['B']);
    expect(await sorted(`updated_after=${encodeURIComponent('2026-05-31T23:00:00-02:00')}`)).toEqual([]);
  });

  it('a date-time without an offset is a 400 naming the parameter', async () => {
    for (const param of ['created_after', 'created_before', 'updated_after']) {
      const res = await list(`${param}=2026-02-10T11:30:00`);
      expect(res.status, param).toBe(400);
      expect(res.body.error.param, param).toBe(param);
    }
  });

  it('a date that is not a date is a 400 naming the parameter', async () => {
    for (const value of ['yesterday', '2026-13-45', '2026-02-30', '2026-02-30T10:00:00Z']) {
      const res = await list(`created_after=${value}`);
      expect(res.status, value).toBe(400);
      expect(res.body.error.param, value).toBe('created_after');
    }
  });

  it('filters combine, and total counts the filtered set', async () => {
    const res = await list('label=a&status=todo,done&per_page=1');
    expect(res.status).toBe(200);
    expect(res.body.meta).toMatchObject({ total: 2, count: 1, total_pages: 2 });
  });

  it('the cross-project task list takes the same filters', async () => {
    const res = await t.request({ url: `/v1/tasks?project=${small.id}&assignee=none&sort=number&order=asc`, key: owner.key });
    expect(res.status).toBe(200);
    expect(res.body.data.map((x: { id: string }) => x.id)).toEqual([T.C.id, T.D.id]);
  });
});

describe('include', () => {
  it('include=comments,time_entries,attachments embeds each relation as an empty list', async () => {
    const res = await list('include=comments,time_entries,attachments');
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(5);
    for (const task of res.body.data) {
      expect(task.comments).toEqual([]);
      expect(task.time_entries).toEqual([]);
      expect(task.attachments).toEqual([]);
    }
    const one = await t.request({ url: `/v1/tasks/${T.A.id}?include=comments,time_entries,attachments`, key: owner.key });
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ id: T.A.id, comments: [], time_entries: [], attachments: [] });
  });

  it('only the relations asked for are embedded', async () => {
    const res = await t.request({ url: `/v1/tasks/${T.A.id}?include=comments`, key: owner.key });
    expect(res.body.data.comments).toEqual([]);
    expect(res.body.data).not.toHaveProperty('time_entries');
    const plain = await t.request({ url: `/v1/tasks/${T.A.id}`, key: owner.key });
    expect(plain.body.data).not.toHaveProperty('comments');
  });

  it('an unknown include is a 400 naming include', async () => {
    for (const url of [`/v1/projects/${small.id}/tasks?include=comments,secrets`, `/v1/tasks/${T.A.id}?include=owner`]) {
      const res = await t.request({ url, key: owner.key });
      expect(res.status, url).toBe(400);
      expect(res.body.error.param, url).toBe('include');
    }
  });
});

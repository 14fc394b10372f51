// Time reports (analytics, team, reports, productivity, timeline): they add up, to the second,
// to the entries under them, in any time zone, across midnights and DST changes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { movableClock } from './clock.ts';
import { addMember, makeProject, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

const HOUR = 3600;

/** A workspace with a project, its owner and two members, and tasks labelled in three ways. */
async function setup() {
  const { owner, workspace, project } = await makeWorld(t);
  const ann = await makeUser(t);
  const bob = await makeUser(t);
  await addMember(t, owner, workspace.id, ann, 'member');
  await addMember(t, owner, workspace.id, bob, 'member');
  const tasks = [
    await makeTask(t, owner, project.id, { labels: [] }),
    await makeTask(t, owner, project.id, { labels: ['bug'] }),
    await makeTask(t, owner, project.id, { labels: ['bug', 'frontend', 'auth'] }),
  ];
  const q = `company_slug=${workspace.slug}&project_slug=${project.slug}`;
  return { owner, ann, bob, workspace, project, tasks, q };
}

async function log(who: Actor, taskId: string, startedAt: string, endedAt: string, extra: Record<string, unknown> = {}) {
  const r = await t.request({ method: 'POST', url: '/v1/time-entries', key: who.key, body: { task_id: taskId, started_at: startedAt, ended_at: endedAt, ...extra } });
  expect(r.status, r.text).toBe(201);
  return r.body.data;
}

async function get(key: string, url: string) {
  const r = await t.request({ url, key });
  expect(r.status, `${url}: ${r.text}`).toBe(200);
  return r.body.data;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('time reports', () => {
  it('analytics gives the fields of the spec, with totals, daily average, top contributors, labels and a daily trend', async () => {
    const { owner, ann, bob, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-01-05T09:00:00Z', '2026-01-05T11:30:00Z');
    await log(ann, tasks[1].id, '2026-01-06T09:00:00Z', '2026-01-06T10:00:00Z');
    await log(bob, tasks[2].id, '2026-01-06T13:00:00Z', '2026-01-06T14:00:00Z', { billable: false });
    const a = await get(owner.key, `/time-trackings/analytics?${q}&start=2026-01-05&end=2026-01-08&tz=UTC`);
    expect(Object.keys(a)).toEqual(expect.arrayContaining(['total_hours', 'average_daily_hours', 'top_contributors', 'by_task_type', 'trend']));
    expect(a.total_seconds).toBe(4.5 * HOUR);
    expect(a.total_hours).toBe(4.5);
    expect(a.average_daily_hours).toBe(1.13); // 4.5 h over 4 days, rounded to 2 decimals
    expect(a.top_contributors.map((c: any) => [c.total_seconds, c.tasks_tracked])).toEqual([
      [3.5 * HOUR, 2],
      [1 * HOUR, 1],
    ]);
    expect(a.trend).toEqual([
      { date: '2026-01-05', total_hours: 2.5, total_seconds: 2.5 * HOUR },
      { date: '2026-01-06', total_hours: 2, total_seconds: 2 * HOUR },
      { date: '2026-01-07', total_hours: 0, total_seconds: 0 },
      { date: '2026-01-08', total_hours: 0, total_seconds: 0 },
    ]);
    // Labels: task 1 has none, task 2 one, task 3 three (its hour is split in three).
    const byType = Object.fromEntries(a.by_task_type.map((x: any) => [x.type, x.total_seconds]));
    expect(byType).toEqual({ null: 2.5 * HOUR, bug: HOUR + 1200, frontend: 1200, auth: 1200 });
    expect(sum(a.by_task_type.map((x: any) => x.total_seconds))).toBe(a.total_seconds);
    expect(a.period).toEqual({ start: '2026-01-05', end: '2026-01-08', days: 4, tz: 'UTC', starts_at: '2026-01-05T00:00:00Z', ends_at: '2026-01-09T00:00:00Z' });
  });

  it('team lists every member with username, total_hours and tasks_tracked, those without time at 0', async () => {
    const { owner, ann, bob, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-01-05T09:00:00Z', '2026-01-05T10:00:00Z');
    await log(ann, tasks[1].id, '2026-01-05T10:00:00Z', '2026-01-05T10:30:00Z');
    const team = await get(owner.key, `/time-trackings/team?${q}&start=2026-01-05&end=2026-01-05`);
    expect(team.team_members.length).toBe(3);
    expect(team.team_members[0]).toMatchObject({ total_hours: 1.5, total_seconds: 1.5 * HOUR, tasks_tracked: 2, entries: 2 });
    expect(team.team_members.slice(1).map((m: any) => m.total_seconds)).toEqual([0, 0]);
    for (const m of team.team_members) expect(Object.keys(m)).toEqual(expect.arrayContaining(['username', 'total_hours', 'tasks_tracked']));
    const onlyBob = await get(owner.key, `/time-trackings/team?${q}&start=2026-01-05&end=2026-01-05&users=${bob.userId}`);
    expect(onlyBob.team_members.length).toBe(1);
    expect(onlyBob.total_seconds).toBe(0);
  });

  it('splits an entry at midnight of the report time zone, and the days add up to it', async () => {
    const { owner, ann, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-03-01T22:00:00Z', '2026-03-02T02:00:00Z');
    const utc = await get(owner.key, `/time-trackings/reports?${q}&start=2026-03-01&end=2026-03-02&tz=UTC&group_by=day`);
    expect(utc.groups.map((g: any) => [g.key, g.seconds])).toEqual([
      ['2026-03-01', 2 * HOUR],
      ['2026-03-02', 2 * HOUR],
    ]);
    // In Tokyo (UTC+9) the same four hours are 07:00–11:00 on 2 March.
    const tokyo = await get(owner.key, `/time-trackings/reports?${q}&start=2026-03-01&end=2026-03-02&tz=Asia/Tokyo&group_by=day`);
    expect(tokyo.groups.map((g: any) => [g.key, g.seconds])).toEqual([
      ['2026-03-01', 0],
      ['2026-03-02', 4 * HOUR],
    ]);
    // A range that starts at the Tokyo midnight clips the entry.
    const clipped = await get(owner.key, `/time-trackings/reports?${q}&start=2026-03-02&end=2026-03-02&tz=UTC&group_by=user`);
    expect(clipped.total_seconds).toBe(2 * HOUR);
  });

  it('counts a day of 23 hours and one of 25 at a DST change, and the report adds up to the entries', async () => {
    const { owner, ann, tasks, q } = await setup();
    // Berlin springs forward on 29 March 2026 (02:00 → 03:00) and falls back on 25 October.
    await log(ann, tasks[0].id, '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z'); // all of 29 March, local
    await log(ann, tasks[0].id, '2026-10-24T22:00:00Z', '2026-10-25T10:00:00Z'); // all of 25 October, local,
    await log(ann, tasks[0].id, '2026-10-25T10:00:00Z', '2026-10-25T23:00:00Z'); // in two entries of 12 and 13 hours
    const spring = await get(owner.key, `/time-trackings/reports?${q}&start=2026-03-29&end=2026-03-29&tz=Europe/Berlin&group_by=day`);
    expect(spring.groups).toMatchObject([{ key: '2026-03-29', seconds: 23 * HOUR }]);
    expect(spring.period).toMatchObject({ starts_at: '2026-03-28T23:00:00Z', ends_at: '2026-03-29T22:00:00Z' });
    const autumn = await get(owner.key, `/time-trackings/reports?${q}&start=2026-10-25&end=2026-10-25&tz=Europe/Berlin&group_by=day`);
    expect(autumn.groups).toMatchObject([{ key: '2026-10-25', seconds: 25 * HOUR, entries: 2 }]);
    expect(autumn.period).toMatchObject({ starts_at: '2026-10-24T22:00:00Z', ends_at: '2026-10-25T23:00:00Z' });
  });

  it('groups by user, task, day, week, month, label and billable, each adding up to the total', async () => {
    const { owner, ann, bob, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-01-30T09:00:00Z', '2026-01-30T10:00:07Z');
    await log(ann, tasks[2].id, '2026-02-02T09:00:00Z', '2026-02-02T09:00:10Z'); // 10 s over three labels: 4 + 3 + 3
    await log(bob, tasks[1].id, '2026-02-03T09:00:00Z', '2026-02-03T11:00:00Z', { billable: false });
    const expected: Record<string, [string | null, number][]> = {
      user: [],
      task: [],
      billable: [
        ['false', 2 * HOUR],
        ['true', HOUR + 17],
      ],
      label: [
        ['bug', 2 * HOUR + 4],
        [null, HOUR + 7],
        ['auth', 3],
        ['frontend', 3],
      ],
      month: [
        ['2026-01', HOUR + 7],
        ['2026-02', 2 * HOUR + 10],
      ],
      week: [
        ['2026-W05', HOUR + 7],
        ['2026-W06', 2 * HOUR + 10],
      ],
    };
    for (const groupBy of ['user', 'task', 'day', 'week', 'month', 'label', 'billable']) {
      const r = await get(owner.key, `/time-trackings/reports?${q}&start=2026-01-26&end=2026-02-08&tz=UTC&group_by=${groupBy}`);
      expect(r.group_by).toBe(groupBy);
      expect(r.total_seconds).toBe(3 * HOUR + 17);
      expect(sum(r.groups.map((g: any) => g.seconds)), groupBy).toBe(r.total_seconds);
      if (expected[groupBy]?.length) expect(r.groups.map((g: any) => [g.key, g.seconds]), groupBy).toEqual(expected[groupBy]);
      if (groupBy === 'day') expect(r.groups.length).toBe(14);
      if (groupBy === 'user') expect(r.groups.map((g: any) => g.user.id)).toEqual([bob.userId, ann.userId]);
      if (groupBy === 'task') expect(r.groups.map((g: any) => g.task.id)).toEqual([tasks[1].id, tasks[0].id, tasks[2].id]);
      if (groupBy === 'week') expect(r.groups.map((g: any) => [g.start_date, g.end_date])).toEqual([['2026-01-26', '2026-02-01'], ['2026-02-02', '2026-02-08']]);
    }
  });

  it('answers Accept: text/csv with the groups as CSV, neutralising cells a spreadsheet would run as formulas', async () => {
    const { owner, ann, project, q } = await setup();
    const evil = await makeTask(t, owner, project.id, { title: '=HYPERLINK("http://evil.test","click"), "quoted"' });
    await log(ann, evil.id, '2026-01-05T09:00:00Z', '2026-01-05T09:30:00Z');
    const r = await t.request({ url: `/time-trackings/reports?${q}&start=2026-01-05&end=2026-01-05&group_by=task`, key: owner.key, headers: { accept: 'text/csv' } });
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="time-report-.*-2026-01-05-2026-01-05-by-task\.csv"$/);
    expect(r.text).toBe(`task,name,seconds,hours,entries,tasks\r\n${evil.uuid},"'=HYPERLINK(""http://evil.test"",""click""), ""quoted""",1800,0.5,1,1\r\n`);
    const json = await t.request({ url: `/time-trackings/reports?${q}&start=2026-01-05&end=2026-01-05`, key: owner.key, headers: { accept: 'text/csv;q=0.5, application/json' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
  });

  it('productivity counts focus time, sessions, context switches and an efficiency score as documented', async () => {
    const { owner, ann, tasks, q } = await setup();
    // Ann, one day: 09:00–10:00 task 0 (focus), 10:00–10:10 task 1, 10:10–10:20 task 0, 11:00–11:30 task 0 (focus).
    await log(ann, tasks[0].id, '2026-01-05T09:00:00Z', '2026-01-05T10:00:00Z');
    await log(ann, tasks[1].id, '2026-01-05T10:00:00Z', '2026-01-05T10:10:00Z');
    await log(ann, tasks[0].id, '2026-01-05T10:10:00Z', '2026-01-05T10:20:00Z');
    await log(ann, tasks[0].id, '2026-01-05T11:00:00Z', '2026-01-05T11:30:00Z');
    // The next day's first entry is on another task than the day before's last: no switch.
    await log(ann, tasks[2].id, '2026-01-06T09:00:00Z', '2026-01-06T09:20:00Z');
    const pr = await get(owner.key, `/time-trackings/productivity?${q}&start=2026-01-05&end=2026-01-06&tz=UTC`);
    expect(pr).toMatchObject({ total_seconds: 130 * 60, focus_seconds: 90 * 60, sessions: 5, context_switches: 2, efficiency_score: 69, average_session_minutes: 26, focus_threshold_minutes: 25 });
    expect(pr.by_user).toHaveLength(1);
    expect(pr.by_user[0]).toMatchObject({ total_seconds: 130 * 60, context_switches: 2 });
    const empty = await get(owner.key, `/time-trackings/productivity?${q}&start=2026-02-01&end=2026-02-01`);
    expect(empty).toMatchObject({ total_seconds: 0, efficiency_score: null, by_user: [] });
  });

  it('timeline lists the period’s entries in order of start, running timers too, paginated', async () => {
    const { owner, ann, bob, tasks, q, workspace, project } = await setup();
    const late = await log(bob, tasks[1].id, '2026-01-05T15:00:00Z', '2026-01-05T16:00:00Z');
    const early = await log(ann, tasks[0].id, '2026-01-05T08:00:00Z', '2026-01-05T09:00:00Z');
    await log(ann, tasks[0].id, '2026-01-07T08:00:00Z', '2026-01-07T09:00:00Z'); // outside
    const r = await t.request({ url: `/time-trackings/timeline?${q}&start=2026-01-05&end=2026-01-06&per_page=1`, key: owner.key });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.map((e: any) => e.id)).toEqual([early.id]);
    expect(r.body.meta).toMatchObject({ total: 2, per_page: 1 });
    expect(r.headers.link).toContain('rel="next"');
    expect(Object.keys(r.body.data[0]).sort()).toEqual(['created_at', 'description', 'duration_minutes', 'ended_at', 'id', 'is_manual', 'started_at', 'task_uuid', 'user'].sort());
    const page2 = await get(owner.key, `/time-trackings/timeline?${q}&start=2026-01-05&end=2026-01-06&per_page=1&page=2`);
    expect(page2.map((e: any) => e.id)).toEqual([late.id]);
    // A timer started today shows in today's timeline while it runs.
    const started = await t.request({ method: 'POST', url: '/time-trackings', key: ann.key, body: { company_slug: workspace.slug, project_slug: project.slug, task_uuid: tasks[2].uuid } });
    expect(started.status, started.text).toBe(201);
    const today = await get(owner.key, `/time-trackings/timeline?${q}&period=today`);
    expect(today.map((e: any) => [e.id, e.ended_at])).toEqual([[started.body.data.id, null]]);
  });

  it('filters by users (ids or usernames) and billable', async () => {
    const { owner, ann, bob, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-01-05T09:00:00Z', '2026-01-05T10:00:00Z');
    await log(bob, tasks[0].id, '2026-01-05T09:00:00Z', '2026-01-05T09:30:00Z', { billable: false });
    const base = `/time-trackings/reports?${q}&start=2026-01-05&end=2026-01-05`;
    expect((await get(owner.key, `${base}&users=${ann.userId}`)).total_seconds).toBe(HOUR);
    const bobName = (await t.database.db.selectFrom('users').select('username').where('id', '=', bob.userId).executeTakeFirstOrThrow()).username;
    expect((await get(owner.key, `${base}&users=${encodeURIComponent(bobName.toUpperCase())}`)).total_seconds).toBe(HOUR / 2);
    expect((await get(owner.key, `${base}&users=${ann.userId},${bob.userId}`)).total_seconds).toBe(1.5 * HOUR);
    expect((await get(owner.key, `${base}&users=nobody-by-that-name`)).total_seconds).toBe(0);
    expect((await get(owner.key, `${base}&billable=false`)).total_seconds).toBe(HOUR / 2);
  });

  it('resolves every period preset in the time zone, from the server clock', async () => {
    const { owner, ann, tasks, q } = await setup();
    await log(ann, tasks[0].id, '2026-03-02T08:00:00Z', '2026-03-02T18:00:00Z');
    const at = new Date('2026-03-10T23:30:00Z'); // 11 March in Tokyo
    clock.reset();
    clock.advance(at.getTime() - Date.now());
    try {
      const period = async (preset: string, tz = 'UTC') => (await get(owner.key, `/time-trackings/reports?${q}&period=${preset}&tz=${tz}`)).period;
      expect(await period('today')).toMatchObject({ start: '2026-03-10', end: '2026-03-10', days: 1 });
      expect(await period('today', 'Asia/Tokyo')).toMatchObject({ start: '2026-03-11', end: '2026-03-11', starts_at: '2026-03-10T15:00:00Z', ends_at: '2026-03-11T15:00:00Z' });
      expect(await period('yesterday')).toMatchObject({ start: '2026-03-09', end: '2026-03-09' });
      expect(await period('last-7-days')).toMatchObject({ start: '2026-03-04', end: '2026-03-10', days: 7 });
      expect(await period('last-14-days')).toMatchObject({ start: '2026-02-25', end: '2026-03-10', days: 14 });
      expect(await period('last-30-days')).toMatchObject({ start: '2026-02-09', end: '2026-03-10', days: 30 });
      expect(await period('this-month')).toMatchObject({ start: '2026-03-01', end: '2026-03-31', days: 31 });
      expect(await period('last-month')).toMatchObject({ start: '2026-02-01', end: '2026-02-28', days: 28 });
      expect((await get(owner.key, `/time-trackings/reports?${q}`)).period).toMatchObject({ start: '2026-02-09', end: '2026-03-10' });
      // The daily average divides by the days so far of a period that has not ended: 10 hours
      // over 1–10 March, not over the 31 days of March; a past period divides by all its days.
      const thisMonth = await get(owner.key, `/time-trackings/analytics?${q}&period=this-month&tz=UTC`);
      expect(thisMonth).toMatchObject({ total_hours: 10, average_daily_hours: 1, period: { days: 31 } });
      expect((await get(owner.key, `/time-trackings/analytics?${q}&start=2026-03-01&end=2026-03-05&tz=UTC`)).average_daily_hours).toBe(2);
    } finally {
      clock.reset();
    }
  });

  it('refuses bad report parameters with a clear 4xx naming them', async () => {
    const { owner, q } = await setup();
    const stranger = (await makeWorld(t)).owner;
    const url = (params: string) => `/time-trackings/reports?${q}&${params}`;
    const cases: [string, number, string, string][] = [
      ['tz=Mars/Olympus_Mons', 400, 'INVALID_TIME_ZONE', 'tz'],
      ['tz=UTC%2B3', 400, 'INVALID_TIME_ZONE', 'tz'],
      ['tz=../../etc/passwd', 400, 'INVALID_TIME_ZONE', 'tz'],
      ['start=2025-01-01&end=2026-01-02', 422, 'RANGE_TOO_LONG', 'end'],
      ['start=2026-02-01&end=2026-01-31', 422, 'INVALID_RANGE', 'end'],
      ['start=2026-02-30', 400, 'VALIDATION_ERROR', 'start'],
      ['end=2026-02-01', 400, 'PARAMETER_REQUIRED', 'start'],
      ['period=last-7-days&start=2026-01-01', 400, 'PARAMETERS_CONFLICT', 'period'],
      ['period=last-year', 400, 'VALIDATION_ERROR', 'period'],
      ['group_by=project', 400, 'VALIDATION_ERROR', 'group_by'],
      ['users=', 400, 'VALIDATION_ERROR', 'users'],
      ['billable=yes', 400, 'VALIDATION_ERROR', 'billable'],
      ['start=2026-01-01T00:00:00Z', 400, 'VALIDATION_ERROR', 'start'],
    ];
    for (const [params, status, code, param] of cases) {
      const r = await t.request({ url: url(params), key: owner.key });
      expectError(r, status, code);
      expect(r.body.error.param, params).toBe(param);
    }
    // 366 days is the limit, and it is allowed.
    expect((await t.request({ url: url('start=2025-01-01&end=2026-01-01'), key: owner.key })).status).toBe(200);
    for (const path of ['analytics', 'team', 'reports', 'productivity', 'timeline']) {
      expectError(await t.request({ url: `/time-trackings/${path}?${q}`, key: stranger.key }), 404, 'NOT_FOUND');
      expectError(await t.request({ url: `/time-trackings/${path}?company_slug=nope&project_slug=nope`, key: owner.key }), 404, 'NOT_FOUND');
      expectError(await t.request({ url: `/time-trackings/${path}?${q}&tz=Nowhere/Atall`, key: owner.key }), 400, 'INVALID_TIME_ZONE');
    }
  });

  it('lets a viewer read reports', async () => {
    const { owner, workspace, q } = await setup();
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    expect((await t.request({ url: `/time-trackings/analytics?${q}`, key: viewer.key })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// The property: for random entries across time zones, midnights and DST changes, every grouping
// adds up to the total, and the total (and each day) equals the entries' durations clipped to
// the period (to the day), to the second. Day boundaries are checked against Intl, not against
// the database that computed them.

const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Tokyo'];
// Days around the year's DST changes in those zones, and one with none.
const DAYS = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-09-27', '2026-10-04', '2026-10-25', '2026-11-01', '2026-01-15'];

/** The local wall-clock time of an instant in a zone, as if it were UTC (ms). */
function wallClock(ms: number, tz: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

/** The instant of a date's local midnight in a zone (none of these zones skips a midnight). */
function midnight(date: string, tz: string): number {
  const target = Date.parse(`${date}T00:00:00Z`);
  let t = target;
  for (let i = 0; i < 4; i++) t = t - (wallClock(t, tz) - target);
  expect(wallClock(t, tz)).toBe(target);
  return t;
}

function addDay(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

function clip(s: number, e: number, from: number, to: number): number {
  return Math.max(0, Math.min(e, to) - Math.max(s, from)) / 1000;
}

describe('time reports, as a property', () => {
  let people: Actor[];
  let owner: Actor;
  let workspaceId: string;
  let slug: string;
  beforeAll(async () => {
    const world = await makeWorld(t);
    owner = world.owner;
    workspaceId = world.workspace.id;
    slug = world.workspace.slug;
    people = [owner, await makeUser(t), await makeUser(t)];
    for (const p of people.slice(1)) await addMember(t, owner, workspaceId, p, 'member');
  });

  const entry = fc.record({
    startOffset: fc.integer({ min: -3 * 86_400, max: 3 * 86_400 }),
    duration: fc.oneof(fc.integer({ min: 1, max: 86_400 }), fc.constantFrom(1, 59, 3600, 86_400)),
    person: fc.integer({ min: 0, max: 2 }),
    task: fc.integer({ min: 0, max: 2 }),
    billable: fc.boolean(),
  });

  it('every grouping adds up to the total, which is the sum of the clipped entries; each day is the entries clipped to its midnights', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ZONES), fc.constantFrom(...DAYS), fc.array(entry, { minLength: 0, maxLength: 12 }), async (tz, day, entries) => {
        const project = await makeProject(t, owner, workspaceId);
        const tasks = [
          await makeTask(t, owner, project.id, { labels: [] }),
          await makeTask(t, owner, project.id, { labels: ['x'] }),
          await makeTask(t, owner, project.id, { labels: ['x', 'y', 'z'] }),
        ];
        const base = Date.parse(`${day}T00:00:00Z`);
        const made = entries.map((e) => ({ ...e, s: base + e.startOffset * 1000, e: base + (e.startOffset + e.duration) * 1000 }));
        for (const m of made) {
          await log(people[m.person]!, tasks[m.task].id, new Date(m.s).toISOString(), new Date(m.e).toISOString(), { billable: m.billable });
        }
        const start = addDay(day, -2);
        const end = addDay(day, 2);
        const q = `company_slug=${slug}&project_slug=${project.slug}&start=${start}&end=${end}&tz=${encodeURIComponent(tz)}`;
        const from = midnight(start, tz);
        const to = midnight(addDay(end, 1), tz);
        const expectedTotal = sum(made.map((m) => clip(m.s, m.e, from, to)));

        const byDay = await get(owner.key, `/time-trackings/reports?${q}&group_by=day`);
        expect(byDay.period).toMatchObject({ starts_at: new Date(from).toISOString().slice(0, 19) + 'Z', ends_at: new Date(to).toISOString().slice(0, 19) + 'Z' });
        expect(byDay.total_seconds).toBe(expectedTotal);
        for (const g of byDay.groups) {
          const lo = midnight(g.key, tz);
          const hi = midnight(addDay(g.key, 1), tz);
          expect(g.seconds, `${tz} ${g.key}`).toBe(sum(made.map((m) => clip(m.s, m.e, lo, hi))));
        }
        for (const groupBy of ['user', 'task', 'day', 'week', 'month', 'label', 'billable']) {
          const r = groupBy === 'day' ? byDay : await get(owner.key, `/time-trackings/reports?${q}&group_by=${groupBy}`);
          expect(r.total_seconds, groupBy).toBe(expectedTotal);
          expect(sum(r.groups.map((g: any) => g.seconds)), groupBy).toBe(expectedTotal);
        }
        const byUser = await get(owner.key, `/time-trackings/reports?${q}&group_by=user`);
        for (const g of byUser.groups) {
          const who = people.findIndex((p) => p.userId === g.user.id);
          expect(g.seconds).toBe(sum(made.filter((m) => m.person === who).map((m) => clip(m.s, m.e, from, to))));
        }
        const analytics = await get(owner.key, `/time-trackings/analytics?${q}`);
        expect(analytics.total_seconds).toBe(expectedTotal);
        expect(sum(analytics.trend.map((d: any) => d.total_seconds))).toBe(expectedTotal);
        expect(sum(analytics.by_task_type.map((d: any) => d.total_seconds))).toBe(expectedTotal);
        const team = await get(owner.key, `/time-trackings/team?${q}`);
        expect(sum(team.team_members.map((m: any) => m.total_seconds))).toBe(expectedTotal);
        const productivity = await get(owner.key, `/time-trackings/productivity?${q}`);
        expect(productivity.total_seconds).toBe(expectedTotal);
      }),
      { numRuns: 25 },
    );
  });
});

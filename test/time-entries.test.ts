// Time tracking: timers and manual entries on both surfaces (the GitScrum-style one at the root
// and /v1), and the rules that keep time data exact.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { movableClock } from './clock.ts';
import { addMember, makeTask, makeUser, makeWorld, type Actor } from './factories.ts';

const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

const MIN = 60_000;

/** A workspace with a project and a task, its owner, and a member with a key of their own. */
async function setup() {
  const { owner, workspace, project } = await makeWorld(t);
  const member = await makeUser(t);
  await addMember(t, owner, workspace.id, member, 'member');
  const task = await makeTask(t, owner, project.id);
  const slugs = { company_slug: workspace.slug, project_slug: project.slug };
  return { owner, member, workspace, project, task, slugs };
}

async function startTimer(key: string, slugs: Record<string, string>, taskUuid: string) {
  return t.request({ method: 'POST', url: '/time-trackings', key, body: { ...slugs, task_uuid: taskUuid } });
}

function eventsOf(type: string, resourceId: string) {
  return t.database.db.selectFrom('events').selectAll().where('type', '=', type).where('resource_id', '=', resourceId).execute();
}

describe('GitScrum-style timers', () => {
  it('starts a timer with the fields of the spec, finds it as active, and stops it with its duration', async () => {
    const { member, task, slugs } = await setup();
    clock.freeze(); // the duration below is exact: the real clock must not tick a second meanwhile
    const started = await startTimer(member.key, slugs, task.uuid);
    expect(started.status, started.text).toBe(201);
    const entry = started.body.data;
    expect(Object.keys(entry).sort()).toEqual(['created_at', 'description', 'duration_minutes', 'ended_at', 'id', 'is_manual', 'started_at', 'task_uuid', 'user'].sort());
    expect(entry).toMatchObject({ task_uuid: task.uuid, ended_at: null, duration_minutes: null, is_manual: false });
    expect(Number.isInteger(entry.id)).toBe(true);
    expect(entry.user).toEqual({ username: expect.any(String), name: expect.any(String) });
    const startedEvents = await eventsOf('timer.started', String(entry.id));
    expect(startedEvents.length).toBe(1);
    // The event carries the entry exactly as /v1 presents it.
    const asV1 = async () => (await t.request({ url: `/v1/time-entries/${entry.id}`, key: member.key })).body.data;
    const dataOf = (e: { data: unknown }) => (typeof e.data === 'string' ? JSON.parse(e.data) : e.data);
    expect(dataOf(startedEvents[0]!)).toEqual(await asV1());

    const active = await t.request({ url: `/time-trackings/active?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}`, key: member.key });
    expect(active.status, active.text).toBe(200);
    expect(active.body.data).toEqual(entry);

    clock.advance(90 * MIN);
    const stopped = await t.request({ method: 'PUT', url: `/time-trackings/${entry.id}`, key: member.key, body: slugs });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.data.duration_minutes).toBe(90);
    expect(Date.parse(stopped.body.data.ended_at) - Date.parse(stopped.body.data.started_at)).toBe(90 * MIN);
    const stoppedEvents = await eventsOf('timer.stopped', String(entry.id));
    expect(stoppedEvents.length).toBe(1);
    expect(dataOf(stoppedEvents[0]!)).toEqual(await asV1());
    expect(stoppedEvents[0]!.changes).toMatchObject({ running: { from: true, to: false }, duration_minutes: { from: null, to: 90 } });

    const none = await t.request({ url: `/time-trackings/active?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}`, key: member.key });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ data: null });
    clock.reset();
  });

  it('answers a second start with 409 whose details carry the running entry', async () => {
    const { member, task, slugs } = await setup();
    const first = await startTimer(member.key, slugs, task.uuid);
    expect(first.status).toBe(201);
    const second = await startTimer(member.key, slugs, task.uuid);
    expectError(second, 409, 'TIMER_ALREADY_RUNNING');
    expect(second.body.error.details.running_entry.id).toBe(first.body.data.id);
  });

  it('of 50 concurrent starts by one user, exactly one runs and 49 get 409', async () => {
    const { member, task, slugs } = await setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => startTimer(member.key, slugs, task.uuid)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBe(1);
    expect(statuses.filter((s) => s === 409).length).toBe(49);
    const running = await t.database.db.selectFrom('time_entries').select('id').where('user_id', '=', member.userId).where('ended_at', 'is', null).execute();
    expect(running.length).toBe(1);
  });

  it('of 20 concurrent stops of one timer, exactly one stops it, the others get 409, and one timer.stopped event is written', async () => {
    const { member, task, slugs } = await setup();
    const started = await startTimer(member.key, slugs, task.uuid);
    const id = started.body.data.id;
    const results = await Promise.all(Array.from({ length: 20 }, () => t.request({ method: 'PUT', url: `/time-trackings/${id}`, key: member.key, body: slugs })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length, JSON.stringify(results.filter((r) => r.status !== 200 && r.status !== 409).map((r) => r.text))).toBe(1);
    expect(statuses.filter((s) => s === 409).length).toBe(19);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toMatch(/^TIMER_(NOT_RUNNING|BUSY)$/);
    expect((await eventsOf('timer.stopped', String(id))).length).toBe(1);
    const stopped = results.find((r) => r.status === 200)!.body.data;
    const stored = await t.request({ url: `/v1/time-entries/${id}`, key: member.key });
    expect(stored.body.data.ended_at).toBe(stopped.ended_at);
  });

  it('a stop racing edits of the running timer stops it once, keeping every edit', async () => {
    const { member, task, slugs } = await setup();
    const started = await startTimer(member.key, slugs, task.uuid);
    const id = started.body.data.id;
    const [stop, ...edits] = await Promise.all([
      t.request({ method: 'PUT', url: `/time-trackings/${id}`, key: member.key, body: slugs }),
      ...Array.from({ length: 5 }, (_, i) => t.request({ method: 'PUT', url: `/v1/time-entries/${id}`, key: member.key, body: { description: `edit ${i}` } })),
    ]);
    expect(stop!.status, stop!.text).toBe(200);
    for (const e of edits) expect(e.status, e.text).toBe(200);
    const stored = (await t.request({ url: `/v1/time-entries/${id}`, key: member.key })).body.data;
    expect(stored.ended_at).toBe(stop!.body.data.ended_at);
    expect(stored.description).toMatch(/^edit \d$/);
    expect((await eventsOf('timer.stopped', String(id))).length).toBe(1);
  });

  it('finds a timer started days ago as active and as running=true', async () => {
    const { member, task, slugs } = await setup();
    const started = await startTimer(member.key, slugs, task.uuid);
    await t.database.db.updateTable('time_entries').set({ started_at: new Date(Math.floor(clock.now().getTime() / 1000) * 1000 - 3 * 24 * 60 * MIN) }).where('id', '=', String(started.body.data.id)).execute();
    const active = await t.request({ url: `/time-trackings/active?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}`, key: member.key });
    expect(active.body.data.id).toBe(started.body.data.id);
    const listed = await t.request({ url: `/v1/time-entries?running=true&user=${member.userId}`, key: member.key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((e: any) => e.id)).toEqual([started.body.data.id]);
  });

  it('stops a timer that ran past the workspace maximum at that limit, marked auto_stopped', async () => {
    const { owner, member, workspace, task, slugs } = await setup();
    const set = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { max_timer_minutes: 60 } });
    expect(set.status, set.text).toBe(200);
    const started = await startTimer(member.key, slugs, task.uuid);
    clock.advance(150 * MIN);
    const stopped = await t.request({ method: 'PUT', url: `/time-trackings/${started.body.data.id}`, key: member.key, body: slugs });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.data.duration_minutes).toBe(60);
    const v1 = await t.request({ url: `/v1/time-entries/${started.body.data.id}`, key: member.key });
    expect(v1.body.data.auto_stopped).toBe(true);
  });

  it('the background job stops a timer past its workspace maximum at that limit, marked auto_stopped, with one timer.stopped event and no actor', async () => {
    const { owner, member, workspace, task, slugs } = await setup();
    expect((await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { max_timer_minutes: 30 } })).status).toBe(200);
    const overdue = (await startTimer(member.key, slugs, task.uuid)).body.data;
    clock.advance(20 * MIN);
    const fresh = (await startTimer(owner.key, slugs, task.uuid)).body.data;
    clock.advance(15 * MIN);
    await t.deps.services.timeEntries.autoStopOverdue();

    const stopped = await t.request({ url: `/v1/time-entries/${overdue.id}`, key: member.key });
    expect(stopped.body.data).toMatchObject({ running: false, auto_stopped: true, duration_minutes: 30, duration_seconds: 30 * 60 });
    expect((await t.request({ url: `/time-trackings/active?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}`, key: member.key })).body).toEqual({ data: null });
    const events = await eventsOf('timer.stopped', String(overdue.id));
    expect(events.length).toBe(1);
    expect(events[0]).toMatchObject({ actor_user_id: null, actor_key_id: null });
    const changes = typeof events[0]!.changes === 'string' ? JSON.parse(events[0]!.changes) : events[0]!.changes;
    expect(changes.auto_stopped).toEqual({ from: false, to: true });

    const stillRunning = await t.request({ url: `/v1/time-entries/${fresh.id}`, key: owner.key });
    expect(stillRunning.body.data).toMatchObject({ running: true, auto_stopped: false });
    const task1 = await t.request({ url: `/v1/tasks/${task.id}`, key: owner.key });
    expect(task1.body.data.total_tracked_minutes).toBe(30);
  });

  it('two instances running the auto-stop job at once stop each overdue timer exactly once', async () => {
    const { owner, workspace, project, task, slugs } = await setup();
    expect((await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { max_timer_minutes: 5 } })).status).toBe(200);
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const user = await makeUser(t);
      await addMember(t, owner, workspace.id, user, 'member');
      const r = await startTimer(user.key, slugs, task.uuid);
      expect(r.status, r.text).toBe(201);
      ids.push(r.body.data.id);
    }
    clock.advance(6 * MIN);
    const service = t.deps.services.timeEntries;
    await Promise.all([service.autoStopOverdue(3), service.autoStopOverdue(3), service.autoStopOverdue(3)]);
    const rows = await t.database.db.selectFrom('time_entries').select(['id', 'ended_at', 'started_at', 'auto_stopped']).where('project_id', '=', project.id).execute();
    expect(rows.length).toBe(12);
    for (const row of rows) {
      expect(row.auto_stopped).toBe(true);
      expect(row.ended_at!.getTime() - row.started_at.getTime()).toBe(5 * MIN);
    }
    for (const id of ids) expect((await eventsOf('timer.stopped', String(id))).length).toBe(1);
  });

  it("lets neither another member stop, edit nor delete someone's entry (404), while a workspace admin can", async () => {
    const { owner, member, workspace, task, slugs } = await setup();
    const other = await makeUser(t);
    await addMember(t, owner, workspace.id, other, 'member');
    const id = (await startTimer(member.key, slugs, task.uuid)).body.data.id;
    expectError(await t.request({ method: 'PUT', url: `/time-trackings/${id}`, key: other.key, body: slugs }), 404, 'NOT_FOUND');
    expectError(await t.request({ method: 'PATCH', url: `/v1/time-entries/${id}`, key: other.key, body: { description: 'mine now' } }), 404, 'NOT_FOUND');
    const del = await t.request({ method: 'DELETE', url: `/v1/time-entries/${id}`, key: other.key });
    expect(del.status).toBe(200);
    expect(await t.database.db.selectFrom('time_entries').select('id').where('id', '=', String(id)).executeTakeFirst()).toBeDefined();
    const byAdmin = await t.request({ method: 'PUT', url: `/time-trackings/${id}`, key: owner.key, body: slugs });
    expect(byAdmin.status, byAdmin.text).toBe(200);
    expect(byAdmin.body.data.ended_at).not.toBeNull();
  });

  it('answers unknown or foreign slugs with 404', async () => {
    const { member, task, slugs } = await setup();
    const stranger = (await makeWorld(t)).owner;
    expectError(await startTimer(member.key, { ...slugs, project_slug: 'no-such-project' }, task.uuid), 404, 'NOT_FOUND');
    expectError(await startTimer(member.key, { ...slugs, company_slug: 'no-such-company' }, task.uuid), 404, 'NOT_FOUND');
    expectError(await startTimer(stranger.key, slugs, task.uuid), 404, 'NOT_FOUND');
    expectError(await t.request({ url: `/time-trackings?company_slug=${slugs.company_slug}&project_slug=${slugs.project_slug}`, key: stranger.key }), 404, 'NOT_FOUND');
  });
});

describe('manual entries', () => {
  it('creates a manual entry from started_at and ended_at with its duration computed', async () => {
    const { member, task, slugs } = await setup();
    const res = await t.request({
      method: 'POST',
      url: '/time-trackings',
      key: member.key,
      body: { ...slugs, task_uuid: task.uuid, started_at: '2026-02-06T14:00:00Z', ended_at: '2026-02-06T16:30:00Z', description: 'Code review for PR #42' },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ started_at: '2026-02-06T14:00:00Z', ended_at: '2026-02-06T16:30:00Z', duration_minutes: 150, description: 'Code review for PR #42', is_manual: true });
    expect((await eventsOf('time_entry.created', String(res.body.data.id))).length).toBe(1);
  });

  it('logs time as in the spec example: task_id, duration_minutes, billable and date', async () => {
    const { member, task } = await setup();
    const res = await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: task.id, duration_minutes: 90, description: 'Implemented OAuth flow', billable: true, date: '2026-01-15' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ task_id: task.id, duration_minutes: 90, duration_seconds: 5400, billable: true, is_manual: true, started_at: '2026-01-15T00:00:00Z', ended_at: '2026-01-15T01:30:00Z' });
    const listed = await t.request({ url: `/v1/tasks/${task.id}/time-entries`, key: member.key });
    expect(listed.body.data.map((e: any) => e.id)).toEqual([res.body.data.id]);
  });

  it('places a dated entry at midnight of the workspace time zone', async () => {
    const { owner, member, workspace, task } = await setup();
    await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { time_zone: 'Europe/Berlin' } });
    const res = await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: task.id, duration_minutes: 30, date: '2026-07-01' } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.started_at).toBe('2026-06-30T22:00:00Z');
  });

  it.each([
    ['end before start', { started_at: '2026-02-06T16:00:00Z', ended_at: '2026-02-06T15:00:00Z' }, 422, 'ended_at'],
    ['end equal to start', { started_at: '2026-02-06T16:00:00Z', ended_at: '2026-02-06T16:00:00Z' }, 422, 'ended_at'],
    ['a 25-hour entry', { started_at: '2026-02-06T00:00:00Z', ended_at: '2026-02-07T01:00:00Z' }, 422, 'ended_at'],
    ['no offset', { started_at: '2026-02-06T14:00:00', ended_at: '2026-02-06T15:00:00Z' }, 400, 'started_at'],
    ['only started_at', { started_at: '2026-02-06T14:00:00Z' }, 400, 'ended_at'],
    ['zero minutes', { duration_minutes: 0 }, 400, 'duration_minutes'],
    ['negative minutes', { duration_minutes: -5 }, 400, 'duration_minutes'],
    ['fractional minutes', { duration_minutes: 1.5 }, 400, 'duration_minutes'],
    ['more than a day of minutes', { duration_minutes: 1441 }, 400, 'duration_minutes'],
    ['neither a duration nor an interval', {}, 400, 'duration_minutes'],
  ])('refuses %s and writes nothing', async (_what, fields, status, param) => {
    const { member, task } = await setup();
    const res = await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: task.id, ...fields } });
    expectError(res, status, undefined, param);
    const rows = await t.database.db.selectFrom('time_entries').select('id').where('task_id', '=', task.id).execute();
    expect(rows.length).toBe(0);
  });

  it("refuses another workspace's task as not found", async () => {
    const { member } = await setup();
    const other = await makeWorld(t);
    const foreign = await makeTask(t, other.owner, other.project.id);
    expectError(await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: foreign.id, duration_minutes: 10 } }), 404, 'NOT_FOUND');
  });
});

describe('overlapping entries', () => {
  async function log(key: string, taskId: string, start: string, end: string) {
    return t.request({ method: 'POST', url: '/v1/time-entries', key, body: { task_id: taskId, started_at: start, ended_at: end } });
  }

  it('allows overlapping entries by default', async () => {
    const { member, task } = await setup();
    expect((await log(member.key, task.id, '2026-03-01T09:00:00Z', '2026-03-01T11:00:00Z')).status).toBe(201);
    expect((await log(member.key, task.id, '2026-03-01T10:00:00Z', '2026-03-01T12:00:00Z')).status).toBe(201);
  });

  it('refuses an overlapping entry with 409 when the workspace says so, but back-to-back entries do not overlap', async () => {
    const { owner, member, workspace, task } = await setup();
    const set = await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { allow_overlapping_time_entries: false } });
    expect(set.body.data.allow_overlapping_time_entries).toBe(false);
    expect((await log(member.key, task.id, '2026-03-01T12:00:00Z', '2026-03-01T13:00:00Z')).status).toBe(201);
    expect((await log(member.key, task.id, '2026-03-01T13:00:00Z', '2026-03-01T14:00:00Z')).status).toBe(201);
    expect((await log(member.key, task.id, '2026-03-01T11:00:00Z', '2026-03-01T12:00:00Z')).status).toBe(201);
    expectError(await log(member.key, task.id, '2026-03-01T12:59:59Z', '2026-03-01T13:30:00Z'), 409, 'ENTRY_OVERLAPS');
    // Someone else's entries never conflict with yours.
    expect((await log(owner.key, task.id, '2026-03-01T12:30:00Z', '2026-03-01T13:30:00Z')).status).toBe(201);
  });

  it('where the workspace refuses overlaps, a running timer overlaps everything after its start, and a timer cannot start inside an entry', async () => {
    const { owner, member, workspace, task, slugs } = await setup();
    expect((await t.request({ method: 'PATCH', url: `/v1/workspaces/${workspace.id}`, key: owner.key, body: { allow_overlapping_time_entries: false } })).status).toBe(200);
    clock.freeze();
    try {
      const at = (minutes: number) => new Date(Math.floor(clock.now().getTime() / 1000) * 1000 + minutes * MIN).toISOString();
      // An entry that ends after now: a timer started now would overlap it.
      const ahead = (await log(member.key, task.id, at(-30), at(30))).body.data;
      expectError(await startTimer(member.key, slugs, task.uuid), 409, 'ENTRY_OVERLAPS');
      expect((await t.request({ method: 'DELETE', url: `/v1/time-entries/${ahead.id}`, key: member.key })).status).toBe(200);
      // An entry ending exactly now does not overlap a timer started now.
      expect((await log(member.key, task.id, at(-30), at(0))).status).toBe(201);
      expect((await startTimer(member.key, slugs, task.uuid)).status).toBe(201);
      // While it runs, an entry after its start overlaps it; one before it does not.
      expectError(await log(member.key, task.id, at(60), at(90)), 409, 'ENTRY_OVERLAPS');
      expect((await log(member.key, task.id, at(-90), at(-60))).status).toBe(201);
    } finally {
      clock.reset();
    }
  });
});

describe('/v1 time entries', () => {
  it('edits an entry (If-Match checked), recomputes its duration, and deletes it idempotently', async () => {
    const { member, task } = await setup();
    const created = (await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: task.id, started_at: '2026-04-01T09:00:00+02:00', ended_at: '2026-04-01T10:00:00+02:00' } })).body.data;
    expect(created.started_at).toBe('2026-04-01T07:00:00Z');
    const got = await t.request({ url: `/v1/time-entries/${created.id}`, key: member.key });
    const etag = got.headers.etag as string;
    const edited = await t.request({ method: 'PUT', url: `/v1/time-entries/${created.id}`, key: member.key, headers: { 'if-match': etag }, body: { duration_minutes: 45, billable: false } });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.data).toMatchObject({ duration_minutes: 45, ended_at: '2026-04-01T07:45:00Z', billable: false });
    expectError(await t.request({ method: 'PUT', url: `/v1/time-entries/${created.id}`, key: member.key, headers: { 'if-match': etag }, body: { description: 'stale' } }), 412);
    expect((await eventsOf('time_entry.updated', String(created.id))).length).toBe(1);
    for (let i = 0; i < 2; i++) {
      const del = await t.request({ method: 'DELETE', url: `/v1/time-entries/${created.id}`, key: member.key });
      expect(del.status).toBe(200);
      expect(del.body.data).toEqual({ id: created.id, deleted: true });
    }
    expect((await eventsOf('time_entry.deleted', String(created.id))).length).toBe(1);
    expectError(await t.request({ url: `/v1/time-entries/${created.id}`, key: member.key }), 404);
  });

  it('filters by billable, task and range, with half-open ranges', async () => {
    const { member, task, project } = await setup();
    const other = await makeTask(t, member as Actor, project.id);
    const body = (taskId: string, s: string, e: string, billable = true) => ({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: taskId, started_at: s, ended_at: e, billable } });
    const a = (await t.request(body(task.id, '2026-05-01T09:00:00Z', '2026-05-01T10:00:00Z'))).body.data;
    const b = (await t.request(body(task.id, '2026-05-01T10:00:00Z', '2026-05-01T11:00:00Z', false))).body.data;
    const c = (await t.request(body(other.id, '2026-05-02T09:00:00Z', '2026-05-02T10:00:00Z'))).body.data;
    const ids = async (q: string) => (await t.request({ url: `/v1/time-entries?project=${project.id}&sort=started_at&order=asc&${q}`, key: member.key })).body.data.map((e: any) => e.id);
    expect(await ids('')).toEqual([a.id, b.id, c.id]);
    expect(await ids('billable=false')).toEqual([b.id]);
    expect(await ids(`task=${other.id}`)).toEqual([c.id]);
    expect(await ids('from=2026-05-01T10:00:00Z&to=2026-05-02T09:00:00Z')).toEqual([b.id]);
  });

  it('refuses a viewer logging time with 403', async () => {
    const { owner, workspace, task } = await setup();
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    expectError(await t.request({ method: 'POST', url: '/v1/time-entries', key: viewer.key, body: { task_id: task.id, duration_minutes: 5 } }), 403);
  });
});

describe('tasks and their tracked time', () => {
  async function task(key: string, id: string, query = '') {
    const res = await t.request({ url: `/v1/tasks/${id}${query}`, key });
    expect(res.status, res.text).toBe(200);
    return res;
  }

  it('a task totals its finished entries in total_tracked_minutes, through every kind of write', async () => {
    const { member, task: created, slugs } = await setup();
    clock.freeze(); // the sums below are exact to the second: the real clock must not tick meanwhile
    expect(created.total_tracked_minutes).toBe(0);
    const a = (await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, duration_minutes: 90 } })).body.data;
    const b = (await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, started_at: '2026-01-01T10:00:00Z', ended_at: '2026-01-01T10:00:40Z' } })).body.data;
    expect((await task(member.key, created.id)).body.data.total_tracked_minutes).toBe(91);
    // A running timer counts once it stops.
    const timer = (await startTimer(member.key, slugs, created.uuid)).body.data;
    expect((await task(member.key, created.id)).body.data.total_tracked_minutes).toBe(91);
    clock.advance(30 * MIN);
    expect((await t.request({ method: 'PUT', url: `/time-trackings/${timer.id}`, key: member.key, body: slugs })).status).toBe(200);
    expect((await task(member.key, created.id)).body.data.total_tracked_minutes).toBe(121);
    expect((await t.request({ method: 'PATCH', url: `/v1/time-entries/${a.id}`, key: member.key, body: { duration_minutes: 10 } })).status).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/v1/time-entries/${b.id}`, key: member.key })).status).toBe(200);
    expect((await task(member.key, created.id)).body.data.total_tracked_minutes).toBe(40);
    // The trigger's total is the entries' own sum, to the second.
    const { rows } = await sql<{ kept: number; summed: number }>`
      select (select tracked_seconds from tasks where id = ${created.id}) as kept,
             (select coalesce(sum(extract(epoch from ended_at - started_at)), 0)::int from time_entries where task_id = ${created.id}) as summed`.execute(t.database.db);
    expect(rows[0]).toEqual({ kept: 40 * 60, summed: 40 * 60 });
    clock.reset();
  });

  it('logging time changes the task ETag, so a cached copy is not served as current', async () => {
    const { member, task: created } = await setup();
    const before = await task(member.key, created.id);
    const etag = before.headers.etag as string;
    expect((await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, duration_minutes: 5 } })).status).toBe(201);
    const after = await t.request({ url: `/v1/tasks/${created.id}`, key: member.key, headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.body.data.total_tracked_minutes).toBe(5);
  });

  it('include=time_entries embeds the entries, newest first, on a task and on a list of tasks', async () => {
    const { member, project, task: created } = await setup();
    const first = (await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, duration_minutes: 5, date: '2026-01-01' } })).body.data;
    const second = (await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, duration_minutes: 5, date: '2026-01-02' } })).body.data;
    const one = await task(member.key, created.id, '?include=time_entries');
    expect(one.body.data.time_entries.map((e: any) => e.id)).toEqual([second.id, first.id]);
    const list = await t.request({ url: `/v1/projects/${project.id}/tasks?include=time_entries`, key: member.key });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.find((x: any) => x.id === created.id).time_entries.map((e: any) => e.id)).toEqual([second.id, first.id]);
  });

  it("deleting a task deletes its entries, and deleting a user's entries updates the task's total", async () => {
    const { owner, member, task: created } = await setup();
    const other = await makeTask(t, owner, created.project_id);
    await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: created.id, duration_minutes: 5 } });
    await t.request({ method: 'POST', url: '/v1/time-entries', key: member.key, body: { task_id: other.id, duration_minutes: 7 } });
    expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${created.id}`, key: owner.key })).status).toBe(200);
    expect(await t.database.db.selectFrom('time_entries').select('id').where('task_id', '=', created.id).execute()).toEqual([]);
    await t.database.db.deleteFrom('users').where('id', '=', member.userId).execute();
    const row = await t.database.db.selectFrom('tasks').select('tracked_seconds').where('id', '=', other.id).executeTakeFirstOrThrow();
    expect(row.tracked_seconds).toBe(0);
  });
});

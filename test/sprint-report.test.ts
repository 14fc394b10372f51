// Sprint reports: committed against completed, the scope that joined and left a running sprint,
// and a burndown by day in the report's time zone, replayed from what happened to its tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './assertions.ts';
import { createTestApp, type TestApp } from './app.ts';
import { movableClock } from './clock.ts';
import { addMember, makeTask, makeUser, makeWorld, unique, type Actor } from './factories.ts';

const clock = movableClock();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { SPRINTLANE_RATE_LIMIT: 'false' } });
});
afterAll(async () => {
  await t?.close();
});

/** Moves the (frozen) clock to an instant. */
function at(instant: string) {
  clock.freeze();
  clock.advance(Date.parse(instant) - clock.now().getTime());
}

async function makeSprint(by: Actor, projectId: string, body: Record<string, unknown> = {}) {
  const res = await t.request({ method: 'POST', url: `/v1/projects/${projectId}/sprints`, key: by.key, body: { name: unique('Sprint '), ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body.data;
}

async function patch(by: Actor, taskId: string, body: Record<string, unknown>) {
  const res = await t.request({ method: 'PATCH', url: `/v1/tasks/${taskId}`, key: by.key, body });
  expect(res.status, res.text).toBe(200);
}

async function act(by: Actor, sprintId: string, action: 'start' | 'end') {
  const res = await t.request({ method: 'POST', url: `/v1/sprints/${sprintId}/${action}`, key: by.key });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

function report(by: Actor, sprintId: string, query = '') {
  return t.request({ url: `/v1/sprints/${sprintId}/report${query}`, key: by.key });
}

const counts = (tasks: number, estimated_minutes: number) => ({ tasks, estimated_minutes });

describe('sprint report', () => {
  // Monday 7 to Friday 11 December 2026, UTC (the workspace's zone).
  it('reports the commitment, the scope added and removed while the sprint ran, and what it held at the end of each day', async () => {
    try {
      at('2026-12-07T09:00:00Z');
      const { owner, project } = await makeWorld(t);
      const sprint = await makeSprint(owner, project.id, { start_date: '2026-12-07', end_date: '2026-12-11' });
      const a = await makeTask(t, owner, project.id, { title: 'A', estimated_minutes: 60, sprint_id: sprint.id });
      const b = await makeTask(t, owner, project.id, { title: 'B', estimated_minutes: 120, sprint_id: sprint.id });
      const c = await makeTask(t, owner, project.id, { title: 'C', sprint_id: sprint.id });
      const d = await makeTask(t, owner, project.id, { title: 'D', estimated_minutes: 30, sprint_id: sprint.id });
      const e = await makeTask(t, owner, project.id, { title: 'E', estimated_minutes: 45 });
      await act(owner, sprint.id, 'start');

      at('2026-12-07T15:00:00Z');
      await patch(owner, a.id, { status: 'done' });
      at('2026-12-08T10:00:00Z');
      await patch(owner, e.id, { sprint_id: sprint.id });
      await patch(owner, b.id, { estimated_minutes: 90 });
      const f = await makeTask(t, owner, project.id, { title: 'F', estimated_minutes: 15, sprint_id: sprint.id });
      await patch(owner, a.id, { title: 'A, renamed' });
      at('2026-12-09T11:00:00Z');
      await patch(owner, d.id, { sprint_id: null });
      expect((await t.request({ method: 'DELETE', url: `/v1/tasks/${c.id}`, key: owner.key })).status).toBe(200);

      at('2026-12-10T12:00:00Z');
      const running = await report(owner, sprint.id);
      expect(running.status, running.text).toBe(200);
      const r = running.body.data;
      expect(r.sprint).toMatchObject({ id: sprint.id, status: 'active' });
      expect(r.time_zone).toBe('UTC');
      expect(r.committed).toEqual(counts(4, 210));
      expect(r.completed).toEqual(counts(1, 60));
      expect(r.remaining).toEqual(counts(3, 150));
      expect(r.scope_added).toEqual({ tasks: 2, estimated_minutes: 60, task_ids: [e.id, f.id] });
      expect(r.scope_removed).toEqual({ tasks: 2, estimated_minutes: 30, task_ids: [d.id, c.id] });
      expect(r.burndown).toEqual([
        { date: '2026-12-07', scope: counts(4, 210), completed: counts(1, 60), remaining: counts(3, 150), ideal_remaining: { tasks: 3.2, estimated_minutes: 168 } },
        { date: '2026-12-08', scope: counts(6, 240), completed: counts(1, 60), remaining: counts(5, 180), ideal_remaining: { tasks: 2.4, estimated_minutes: 126 } },
        { date: '2026-12-09', scope: counts(4, 210), completed: counts(1, 60), remaining: counts(3, 150), ideal_remaining: { tasks: 1.6, estimated_minutes: 84 } },
        { date: '2026-12-10', scope: counts(4, 210), completed: counts(1, 60), remaining: counts(3, 150), ideal_remaining: { tasks: 0.8, estimated_minutes: 42 } },
        { date: '2026-12-11', scope: null, completed: null, remaining: null, ideal_remaining: { tasks: 0, estimated_minutes: 0 } },
      ]);

      at('2026-12-11T17:00:00Z');
      await patch(owner, e.id, { status: 'done' });
      const ended = await act(owner, sprint.id, 'end');
      expect(ended.completed).toEqual(counts(2, 105));
      const done = (await report(owner, sprint.id)).body.data;
      expect(done.completed).toEqual(counts(2, 105));
      // B and F were unfinished; the end moved them to the backlog, which is not scope removed.
      expect(done.remaining).toEqual(counts(2, 105));
      expect(done.scope_removed.task_ids).toEqual([d.id, c.id]);
      expect(done.burndown.map((day: { date: string }) => day.date)).toEqual(['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11']);
      expect(done.burndown.at(-1)).toEqual({ date: '2026-12-11', scope: counts(4, 210), completed: counts(2, 105), remaining: counts(2, 105), ideal_remaining: counts(0, 0) });

      // The same history in a zone 14 hours ahead: A was finished on the 8th there, the sprint ended on the 12th.
      const kiritimati = (await report(owner, sprint.id, '?tz=Pacific/Kiritimati')).body.data;
      expect(kiritimati.time_zone).toBe('Pacific/Kiritimati');
      expect(kiritimati.burndown.map((day: { date: string }) => day.date)).toEqual(['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11', '2026-12-12']);
      expect(kiritimati.burndown[0]).toMatchObject({ scope: counts(4, 210), completed: counts(0, 0) });
      expect(kiritimati.burndown[1]).toMatchObject({ completed: counts(1, 60) });
      expect(kiritimati.burndown.at(-1)).toMatchObject({ completed: counts(2, 105), ideal_remaining: counts(0, 0) });
      expect(kiritimati.scope_added).toEqual(done.scope_added);
    } finally {
      clock.reset();
    }
  });

  it('runs the burndown to today when the sprint runs past its planned end, and a sprint without dates still has its days', async () => {
    try {
      at('2026-12-14T08:00:00Z');
      const { owner, project } = await makeWorld(t);
      const late = await makeSprint(owner, project.id, { end_date: '2026-12-15' });
      const task = await makeTask(t, owner, project.id, { estimated_minutes: 10, sprint_id: late.id });
      await act(owner, late.id, 'start');
      at('2026-12-17T08:00:00Z');
      await patch(owner, task.id, { status: 'done' });
      const r = (await report(owner, late.id)).body.data;
      expect(r.burndown.map((day: { date: string }) => day.date)).toEqual(['2026-12-14', '2026-12-15', '2026-12-16', '2026-12-17']);
      expect(r.burndown.map((day: { remaining: unknown }) => day.remaining)).toEqual([counts(1, 10), counts(1, 10), counts(1, 10), counts(0, 0)]);
      // Two planned days: half the commitment is left at the end of the first, none after the second.
      expect(r.burndown.map((day: { ideal_remaining: { tasks: number } }) => day.ideal_remaining.tasks)).toEqual([0.5, 0, 0, 0]);
      await act(owner, late.id, 'end');

      const open = await makeSprint(owner, project.id);
      await act(owner, open.id, 'start');
      const o = (await report(owner, open.id)).body.data;
      expect(o.committed).toEqual(counts(0, 0));
      expect(o.burndown).toEqual([{ date: '2026-12-17', scope: counts(0, 0), completed: counts(0, 0), remaining: counts(0, 0), ideal_remaining: counts(0, 0) }]);
    } finally {
      clock.reset();
    }
  });

  it('is readable by viewers, 409 for a sprint that has not started, 400 for an unknown time zone, and 404 outside the workspace', async () => {
    const { owner, workspace, project } = await makeWorld(t);
    const viewer = await makeUser(t);
    await addMember(t, owner, workspace.id, viewer, 'viewer');
    const planned = await makeSprint(owner, project.id);
    expectError(await report(owner, planned.id), 409, 'SPRINT_NOT_STARTED');
    await act(owner, planned.id, 'start');
    expect((await report(viewer, planned.id)).status).toBe(200);
    expectError(await report(owner, planned.id, '?tz=Mars/Olympus'), 400, 'INVALID_TIME_ZONE', 'tz');
    expectError(await report(owner, planned.id, '?tz=UTC%2B3'), 400, 'INVALID_TIME_ZONE', 'tz');
    const stranger = await makeUser(t);
    expectError(await report(stranger, planned.id), 404, 'NOT_FOUND');
    expectError(await report(owner, 'spr_doesnotexist'), 404, 'NOT_FOUND');
  });
});

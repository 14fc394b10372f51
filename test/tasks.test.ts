import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { makeTask, makeWorld } from './factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('tasks', () => {
  it('creating the spec example task answers 201 with exactly the documented fields', async () => {
    const { owner, project } = await makeWorld(t);
    const res = await t.request({
      method: 'POST',
      url: `/v1/projects/${project.id}/tasks`,
      key: owner.key,
      body: { title: 'Implement login feature', description: 'Add OAuth2 login support', priority: 'high', labels: ['feature', 'auth'], assignee_id: owner.userId },
    });
    expect(res.status).toBe(201);
    const task = res.body.data;
    expect(task.id).toMatch(/^task_/);
    expect(task.number).toBe(1);
    expect(task.title).toBe('Implement login feature');
    expect(task.status).toBe('backlog');
    expect(task.priority).toBe('high');
    expect(task.labels).toEqual(['feature', 'auth']);
    expect(task.assignee_id).toBe(owner.userId);
    expect(task.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Object.keys(task).sort()).toEqual(
      // total_tracked_minutes: tasks expose their tracked time (the time-tracking issue, newer than the example).
      ['id', 'uuid', 'number', 'project_id', 'workspace_id', 'title', 'description', 'status', 'priority', 'labels', 'assignee_id', 'due_date', 'estimated_minutes', 'sprint_id', 'parent_id', 'progress', 'total_tracked_minutes', 'created_at', 'updated_at'].sort(),
    );
  });

  it('task numbers are sequential per project and unique under concurrent creates', async () => {
    const { owner, project } = await makeWorld(t);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => makeTask(t, owner, project.id, { title: `T${i}` })));
    const numbers = results.map((r) => r.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

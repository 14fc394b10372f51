import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import type { Db } from '../../db/database.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { List, MUTATION_ERRORS, Nullable, One, PathId, withErrors } from '../../http/schemas.ts';
import { presentEntry, presentTracking } from './time-entry.presenter.ts';
import {
  CreateTimeEntryBody,
  EntryPathId,
  ListTimeEntriesQuery,
  ListTrackingsQuery,
  StartTrackingBody,
  StopTrackingBody,
  TaskTimeEntriesQuery,
  TimeEntrySchema,
  TrackingSchema,
  TrackingScopeQuery,
  UpdateTimeEntryBody,
} from './time-entry.schemas.ts';

const tags = ['Time entries'];
const gitscrumTags = ['Time tracking (GitScrum-style)'];
const EntryDeleted = One(Type.Object({ id: Type.Integer(), deleted: Type.Literal(true) }, { additionalProperties: false }));

/** The `/v1` surface of time entries. */
export function timeEntryRoutes(app: App, deps: Deps): void {
  const svc = deps.services.timeEntries;

  app.get('/v1/tasks/:id/time-entries', {
    schema: { operationId: 'listTaskTimeEntries', summary: "List a task's time entries", tags, params: PathId, querystring: TaskTimeEntriesQuery, response: withErrors({ 200: List(TimeEntrySchema) }) },
  }, async (req, reply) => {
    const r = await svc.listForTask(req.principal!, req.params.id, req.query);
    return sendList(req, reply, { page: r.page, total: r.total, items: r.rows.map(presentEntry) });
  });

  app.get('/v1/time-entries', {
    schema: { operationId: 'listTimeEntries', summary: 'List time entries across your workspaces', tags, querystring: ListTimeEntriesQuery, response: withErrors({ 200: List(TimeEntrySchema) }) },
  }, async (req, reply) => {
    const r = await svc.list(req.principal!, { projectId: req.query.project, taskId: req.query.task }, req.query);
    return sendList(req, reply, { page: r.page, total: r.total, items: r.rows.map(presentEntry) });
  });

  app.post('/v1/time-entries', {
    schema: { operationId: 'createTimeEntry', summary: 'Log time on a task', tags, body: CreateTimeEntryBody, response: withErrors({ 201: One(TimeEntrySchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, async (tx) => presentEntry(await svc.create(tx, req.principal!, req.body))) }));

  app.get('/v1/time-entries/:id', {
    schema: { operationId: 'getTimeEntry', summary: 'Get a time entry', tags, params: EntryPathId, response: withErrors({ 200: One(TimeEntrySchema) }) },
  }, async (req, reply) => {
    const entry = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, presentEntry(entry), entry.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/time-entries/:id', {
      schema: {
        operationId: method === 'put' ? 'updateTimeEntry' : 'patchTimeEntry',
        summary: 'Update a time entry (yours, or anyone’s as a workspace admin)',
        tags,
        params: EntryPathId,
        body: UpdateTimeEntryBody,
        response: withErrors({ 200: One(TimeEntrySchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const entry = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, presentEntry(entry), entry.version);
    });
  }

  app.delete('/v1/time-entries/:id', {
    schema: { operationId: 'deleteTimeEntry', summary: 'Delete a time entry (idempotent)', tags, params: EntryPathId, response: withErrors({ 200: EntryDeleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

/** The GitScrum-style surface of `spec/time-tracking.txt`, over the same entries. */
export function timeTrackingRoutes(app: App, deps: Deps): void {
  const svc = deps.services.timeEntries;
  const db = deps.database.db;

  app.get('/time-trackings', {
    schema: { operationId: 'listTimeTrackings', summary: 'List time entries of a project', tags: gitscrumTags, querystring: ListTrackingsQuery, response: withErrors({ 200: List(TrackingSchema) }) },
  }, async (req, reply) => {
    const project = await svc.projectBySlugs(db, req.principal!, req.query.company_slug, req.query.project_slug);
    const r = await svc.list(req.principal!, { workspaceIds: [project.workspace_id], projectId: project.id }, req.query);
    return sendList(req, reply, { page: r.page, total: r.total, items: r.rows.map(presentTracking) });
  });

  app.get('/time-trackings/active', {
    schema: {
      operationId: 'getActiveTimeTracking',
      summary: 'Your running timer in the project, or null',
      tags: gitscrumTags,
      querystring: TrackingScopeQuery,
      response: withErrors({ 200: One(Nullable(TrackingSchema)) }),
    },
  }, async (req) => {
    const project = await svc.projectBySlugs(db, req.principal!, req.query.company_slug, req.query.project_slug);
    const running = await svc.active(req.principal!, project);
    return { data: running ? presentTracking(running) : null };
  });

  app.post('/time-trackings', {
    schema: {
      operationId: 'createTimeTracking',
      summary: 'Start a timer on a task, or (with started_at and ended_at) log a manual entry',
      tags: gitscrumTags,
      body: StartTrackingBody,
      response: withErrors({ 201: One(TrackingSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => {
    const p = req.principal!;
    const b = req.body;
    const interval = svc.manualInterval(b.started_at, b.ended_at);
    // A timer start is atomic by itself (see start); a manual entry takes a transaction.
    const work = async (tx: Db) => {
      const task = await svc.taskBySlugs(tx, p, b.company_slug, b.project_slug, b.task_uuid);
      const entry = interval ? await svc.createManual(tx, p, task, { ...interval, description: b.description }) : await svc.start(tx, p, task, b.description);
      return presentTracking(entry);
    };
    return { data: await deps.mutate(req, reply, 201, work, { atomic: !interval }) };
  });

  app.put('/time-trackings/:id', {
    schema: { operationId: 'stopTimeTracking', summary: 'Stop a running timer', tags: gitscrumTags, params: EntryPathId, body: StopTrackingBody, response: withErrors({ 200: One(TrackingSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({
    data: await deps.mutate(req, reply, 200, async (db) => presentTracking(await svc.stop(db, req.principal!, req.params.id, req.body)), { atomic: true }),
  }));

  app.delete('/time-trackings/:id', {
    schema: {
      operationId: 'deleteTimeTracking',
      summary: 'Delete a time entry (idempotent)',
      tags: gitscrumTags,
      params: EntryPathId,
      querystring: TrackingScopeQuery,
      response: withErrors({ 200: EntryDeleted }, 412),
    },
  }, async (req, reply) => ({
    data: await deps.mutate(req, reply, 200, async (tx) => {
      const project = await svc.projectBySlugs(tx, req.principal!, req.query.company_slug, req.query.project_slug);
      return svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'], project);
    }),
  }));
}

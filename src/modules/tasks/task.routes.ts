import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { batchStatus, resolveAtomic } from './task-batch.service.ts';
import { BatchCreateBody, BatchMoveBody, BatchQuery, BatchResponse, BatchUpdateBody, MAX_BATCH_ITEMS } from './task-batch.schemas.ts';
import { CreateTaskBody, ListAllTasksQuery, ListTasksQuery, MoveTaskBody, TaskActivityQuery, TaskActivitySchema, TaskQuery, TaskSchema, UpdateTaskBody } from './task.schemas.ts';

const tags = ['Tasks'];

export function taskRoutes(app: App, deps: Deps): void {
  const svc = deps.services.tasks;
  const batch = deps.services.taskBatch;

  app.get('/v1/projects/:id/tasks', {
    schema: { operationId: 'listProjectTasks', summary: 'List tasks of a project', tags, params: PathId, querystring: ListTasksQuery, response: withErrors({ 200: List(TaskSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.listInProject(req.principal!, req.params.id, req.query)));

  app.post('/v1/projects/:id/tasks', {
    schema: { operationId: 'createTask', summary: 'Create a task', tags, params: PathId, body: CreateTaskBody, response: withErrors({ 201: One(TaskSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (db) => svc.create(db, req.principal!, req.params.id, req.body), { atomic: true }) }));

  app.post('/v1/projects/:id/tasks/batch', {
    schema: {
      operationId: 'createTasksBatch',
      summary: `Create up to ${MAX_BATCH_ITEMS} tasks in one transaction (201; 207 with atomic=false when some were refused)`,
      tags,
      params: PathId,
      querystring: BatchQuery,
      body: BatchCreateBody,
      response: withErrors({ 201: BatchResponse, 207: BatchResponse }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => {
    const atomic = resolveAtomic(req.body.atomic, req.query.atomic);
    return deps.mutate(req, reply, batchStatus(201), (tx) => batch.create(tx, req.principal!, req.params.id, req.body, atomic));
  });

  app.patch('/v1/tasks/batch', {
    schema: {
      operationId: 'updateTasksBatch',
      summary: `Merge-patch up to ${MAX_BATCH_ITEMS} tasks in one transaction: fields not sent are never touched (207 with atomic=false when some were refused)`,
      tags,
      querystring: BatchQuery,
      body: BatchUpdateBody,
      response: withErrors({ 200: BatchResponse, 207: BatchResponse }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => {
    const atomic = resolveAtomic(req.body.atomic, req.query.atomic);
    return deps.mutate(req, reply, batchStatus(200), (tx) => batch.update(tx, req.principal!, req.body, atomic));
  });

  app.post('/v1/tasks/batch/move', {
    schema: {
      operationId: 'moveTasksBatch',
      summary: `Move up to ${MAX_BATCH_ITEMS} tasks to other statuses in one transaction (207 with atomic=false when some were refused)`,
      tags,
      querystring: BatchQuery,
      body: BatchMoveBody,
      response: withErrors({ 200: BatchResponse, 207: BatchResponse }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => {
    const atomic = resolveAtomic(req.body.atomic, req.query.atomic);
    return deps.mutate(req, reply, batchStatus(200), (tx) => batch.move(tx, req.principal!, req.body, atomic));
  });

  app.get('/v1/tasks', {
    schema: { operationId: 'listTasks', summary: 'List tasks across your workspaces', tags, querystring: ListAllTasksQuery, response: withErrors({ 200: List(TaskSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.listAll(req.principal!, req.query)));

  app.get('/v1/tasks/:id', {
    schema: { operationId: 'getTask', summary: 'Get a task', tags, params: PathId, querystring: TaskQuery, response: withErrors({ 200: One(TaskSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id, req.query.include);
    // With relations embedded, the body (not the version) decides the ETag.
    return r.include ? { data: r.task } : sendVersioned(reply, r.task, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/tasks/:id', {
      schema: {
        operationId: method === 'put' ? 'updateTask' : 'patchTask',
        summary: 'Update a task (fields not sent are unchanged; null clears)',
        tags,
        params: PathId,
        body: UpdateTaskBody,
        response: withErrors({ 200: One(TaskSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.task, r.version);
    });
  }

  app.get('/v1/tasks/:id/activity', {
    schema: {
      operationId: 'getTaskActivity',
      summary: "A task's history: every change, who made it, and each field's old and new value",
      tags,
      params: PathId,
      querystring: TaskActivityQuery,
      response: withErrors({ 200: List(TaskActivitySchema) }),
    },
  }, async (req, reply) => sendList(req, reply, await svc.activity(req.principal!, req.params.id, req.query)));

  app.patch('/v1/tasks/:id/move', {
    schema: { operationId: 'moveTask', summary: 'Move a task to another status', tags, params: PathId, body: MoveTaskBody, response: withErrors({ 200: One(TaskSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => {
    const r = await deps.mutate(req, reply, 200, (tx) => svc.move(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
    return sendVersioned(reply, r.task, r.version);
  });

  app.delete('/v1/tasks/:id', {
    schema: { operationId: 'deleteTask', summary: 'Delete a task (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

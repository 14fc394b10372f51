import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendVersioned } from '../../http/reply.ts';
import { Deleted, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { Type } from 'typebox';
import { CreateStatusBody, DeleteStatusQuery, StatusPath, StatusSchema, UpdateStatusBody } from './status.schemas.ts';

const tags = ['Workflows'];

export function statusRoutes(app: App, deps: Deps): void {
  const svc = deps.services.statuses;

  app.get('/v1/projects/:id/statuses', {
    schema: {
      operationId: 'listStatuses',
      summary: "A project's workflow: its board columns in order, with how many tasks each holds",
      tags,
      params: PathId,
      response: withErrors({ 200: Type.Object({ data: Type.Array(StatusSchema) }, { additionalProperties: false }) }),
    },
  }, async (req) => ({ data: await svc.list(req.principal!, req.params.id) }));

  app.post('/v1/projects/:id/statuses', {
    schema: { operationId: 'createStatus', summary: 'Add a column to the workflow (at `position`, by default the end)', tags, params: PathId, body: CreateStatusBody, response: withErrors({ 201: One(StatusSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/projects/:id/statuses/:key', {
    schema: { operationId: 'getStatus', summary: 'One column of the workflow', tags, params: StatusPath, response: withErrors({ 200: One(StatusSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id, req.params.key);
    return sendVersioned(reply, r.status, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/projects/:id/statuses/:key', {
      schema: {
        operationId: method === 'put' ? 'updateStatus' : 'patchStatus',
        summary: "Rename, recategorise, limit or move a column (fields not sent are unchanged; the key stays)",
        tags,
        params: StatusPath,
        body: UpdateStatusBody,
        response: withErrors({ 200: One(StatusSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.params.key, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.status, r.version);
    });
  }

  app.delete('/v1/projects/:id/statuses/:key', {
    schema: {
      operationId: 'deleteStatus',
      summary: 'Remove a column; one that holds tasks needs `move_to`, the column that takes them (idempotent)',
      tags,
      params: StatusPath,
      querystring: DeleteStatusQuery,
      response: withErrors({ 200: Deleted }, 409, 412, 422),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.params.key, req.query, req.headers['if-match'])) }));
}

import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CreateLabelBody, LabelSchema, ListLabelsQuery, UpdateLabelBody } from './label.schemas.ts';

const tags = ['Labels'];

export function labelRoutes(app: App, deps: Deps): void {
  const svc = deps.services.labels;

  app.get('/v1/workspaces/:id/labels', {
    schema: { operationId: 'listLabels', summary: "List a workspace's labels (by name unless sorted otherwise)", tags, params: PathId, querystring: ListLabelsQuery, response: withErrors({ 200: List(LabelSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.params.id, req.query)));

  app.post('/v1/workspaces/:id/labels', {
    schema: { operationId: 'createLabel', summary: 'Create a label (409 if the workspace has one of that name, whatever its case)', tags, params: PathId, body: CreateLabelBody, response: withErrors({ 201: One(LabelSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/labels/:id', {
    schema: { operationId: 'getLabel', summary: 'Get a label', tags, params: PathId, response: withErrors({ 200: One(LabelSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.label, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/labels/:id', {
      schema: {
        operationId: method === 'put' ? 'updateLabel' : 'patchLabel',
        summary: 'Update a label (fields not sent are unchanged); a new name reaches every task that carries it',
        tags,
        params: PathId,
        body: UpdateLabelBody,
        response: withErrors({ 200: One(LabelSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.label, r.version);
    });
  }

  app.delete('/v1/labels/:id', {
    schema: { operationId: 'deleteLabel', summary: 'Delete a label; it leaves every task that carried it (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CreateWorkspaceBody, ListWorkspacesQuery, UpdateWorkspaceBody, WorkspaceSchema } from './workspace.schemas.ts';

const tags = ['Workspaces'];

export function workspaceRoutes(app: App, deps: Deps): void {
  const svc = deps.services.workspaces;

  app.get('/v1/workspaces', {
    schema: { operationId: 'listWorkspaces', summary: 'List your workspaces', tags, querystring: ListWorkspacesQuery, response: withErrors({ 200: List(WorkspaceSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.query)));

  app.post('/v1/workspaces', {
    schema: { operationId: 'createWorkspace', summary: 'Create a workspace; you become its owner', tags, body: CreateWorkspaceBody, response: withErrors({ 201: One(WorkspaceSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.body)) }));

  app.get('/v1/workspaces/:id', {
    schema: { operationId: 'getWorkspace', summary: 'Get a workspace', tags, params: PathId, response: withErrors({ 200: One(WorkspaceSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.workspace, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/workspaces/:id', {
      schema: {
        operationId: method === 'put' ? 'updateWorkspace' : 'patchWorkspace',
        summary: 'Update a workspace (fields not sent are unchanged)',
        tags,
        params: PathId,
        body: UpdateWorkspaceBody,
        response: withErrors({ 200: One(WorkspaceSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.workspace, r.version);
    });
  }
}

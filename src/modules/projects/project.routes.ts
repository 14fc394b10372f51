import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CreateProjectBody, ListProjectsQuery, ProjectSchema, UpdateProjectBody } from './project.schemas.ts';

const tags = ['Projects'];

export function projectRoutes(app: App, deps: Deps): void {
  const svc = deps.services.projects;

  app.get('/v1/workspaces/:id/projects', {
    schema: { operationId: 'listProjects', summary: 'List projects of a workspace', tags, params: PathId, querystring: ListProjectsQuery, response: withErrors({ 200: List(ProjectSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.params.id, req.query)));

  app.post('/v1/workspaces/:id/projects', {
    schema: { operationId: 'createProject', summary: 'Create a project', tags, params: PathId, body: CreateProjectBody, response: withErrors({ 201: One(ProjectSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/projects/:id', {
    schema: { operationId: 'getProject', summary: 'Get a project', tags, params: PathId, response: withErrors({ 200: One(ProjectSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.project, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/projects/:id', {
      schema: {
        operationId: method === 'put' ? 'updateProject' : 'patchProject',
        summary: 'Update a project (fields not sent are unchanged)',
        tags,
        params: PathId,
        body: UpdateProjectBody,
        response: withErrors({ 200: One(ProjectSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.project, r.version);
    });
  }

  app.delete('/v1/projects/:id', {
    schema: { operationId: 'deleteProject', summary: 'Delete a project and its tasks (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

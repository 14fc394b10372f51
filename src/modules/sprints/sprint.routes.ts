import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CreateSprintBody, EndSprintBody, ListSprintsQuery, SprintReportQuery, SprintReportSchema, SprintSchema, UpdateSprintBody, VelocityQuery, VelocitySchema } from './sprint.schemas.ts';

const tags = ['Sprints'];

export function sprintRoutes(app: App, deps: Deps): void {
  const svc = deps.services.sprints;

  app.get('/v1/projects/:id/sprints', {
    schema: { operationId: 'listSprints', summary: "List a project's sprints", tags, params: PathId, querystring: ListSprintsQuery, response: withErrors({ 200: List(SprintSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.params.id, req.query)));

  app.post('/v1/projects/:id/sprints', {
    schema: { operationId: 'createSprint', summary: 'Create a sprint (planned)', tags, params: PathId, body: CreateSprintBody, response: withErrors({ 201: One(SprintSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/projects/:id/velocity', {
    schema: {
      operationId: 'getVelocity',
      summary: "What the project's last completed sprints committed to and completed, and their average",
      tags,
      params: PathId,
      querystring: VelocityQuery,
      response: withErrors({ 200: One(VelocitySchema) }),
    },
  }, async (req) => ({ data: await svc.velocity(req.principal!, req.params.id, req.query) }));

  app.get('/v1/sprints/:id', {
    schema: { operationId: 'getSprint', summary: 'Get a sprint', tags, params: PathId, response: withErrors({ 200: One(SprintSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.sprint, r.version);
  });

  app.get('/v1/sprints/:id/report', {
    schema: {
      operationId: 'getSprintReport',
      summary: 'A sprint report: committed against completed, scope added and removed while it ran, and a burndown by day (409 for a sprint that has not started)',
      tags,
      params: PathId,
      querystring: SprintReportQuery,
      response: withErrors({ 200: One(SprintReportSchema) }, 409),
    },
  }, async (req) => ({ data: await svc.report(req.principal!, req.params.id, req.query) }));

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/sprints/:id', {
      schema: {
        operationId: method === 'put' ? 'updateSprint' : 'patchSprint',
        summary: 'Update a sprint (fields not sent are unchanged)',
        tags,
        params: PathId,
        body: UpdateSprintBody,
        response: withErrors({ 200: One(SprintSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.sprint, r.version);
    });
  }

  app.post('/v1/sprints/:id/start', {
    schema: {
      operationId: 'startSprint',
      summary: 'Start a planned sprint; its tasks now are its commitment (409 if the project has an active sprint)',
      tags,
      params: PathId,
      response: withErrors({ 200: One(SprintSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => {
    const r = await deps.mutate(req, reply, 200, (tx) => svc.start(tx, req.principal!, req.params.id, req.headers['if-match']));
    return sendVersioned(reply, r.sprint, r.version);
  });

  app.post('/v1/sprints/:id/end', {
    schema: {
      operationId: 'endSprint',
      summary: 'End the active sprint: its unfinished tasks go to the backlog or to the sprint named in `move_to`',
      tags,
      params: PathId,
      body: EndSprintBody,
      response: withErrors({ 200: One(SprintSchema) }, ...MUTATION_ERRORS),
    },
    // The body is optional: no body means the defaults.
    preValidation: async (req) => {
      req.body ??= {};
    },
  }, async (req, reply) => {
    const r = await deps.mutate(req, reply, 200, (tx) => svc.end(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
    return sendVersioned(reply, r.sprint, r.version);
  });

  app.delete('/v1/sprints/:id', {
    schema: { operationId: 'deleteSprint', summary: 'Delete a sprint that is not active; its tasks return to the backlog (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 409, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

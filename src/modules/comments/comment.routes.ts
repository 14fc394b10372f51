import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CommentBody, CommentSchema, ListCommentsQuery } from './comment.schemas.ts';

const tags = ['Comments'];

export function commentRoutes(app: App, deps: Deps): void {
  const svc = deps.services.comments;

  app.get('/v1/tasks/:id/comments', {
    schema: { operationId: 'listComments', summary: "A task's comments (oldest first unless order=desc)", tags, params: PathId, querystring: ListCommentsQuery, response: withErrors({ 200: List(CommentSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.params.id, req.query)));

  app.post('/v1/tasks/:id/comments', {
    schema: { operationId: 'createComment', summary: 'Comment on a task', tags, params: PathId, body: CommentBody, response: withErrors({ 201: One(CommentSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/comments/:id', {
    schema: { operationId: 'getComment', summary: 'Get a comment', tags, params: PathId, response: withErrors({ 200: One(CommentSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.comment, r.version);
  });

  for (const method of ['put', 'patch'] as const) {
    app[method]('/v1/comments/:id', {
      schema: {
        operationId: method === 'put' ? 'updateComment' : 'patchComment',
        summary: 'Edit a comment (its author only)',
        tags,
        params: PathId,
        body: CommentBody,
        response: withErrors({ 200: One(CommentSchema) }, ...MUTATION_ERRORS),
      },
    }, async (req, reply) => {
      const r = await deps.mutate(req, reply, 200, (tx) => svc.update(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
      return sendVersioned(reply, r.comment, r.version);
    });
  }

  app.delete('/v1/comments/:id', {
    schema: { operationId: 'deleteComment', summary: "Delete a comment (its author, or the workspace's admins; idempotent)", tags, params: PathId, response: withErrors({ 200: Deleted }, 412) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id, req.headers['if-match'])) }));
}

import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList } from '../../http/reply.ts';
import { List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { CreateApiKeyBody, CreatedApiKeySchema } from '../api-keys/api-key.schemas.ts';
import { UserSchema } from '../users/user.schemas.ts';
import { CreateUserBody, ListUsersQuery, RateLimitBody, WorkspaceRateLimitSchema } from './admin.schemas.ts';

const tags = ['Administration'];

export function adminRoutes(app: App, deps: Deps): void {
  const svc = deps.services.admin;

  app.get('/v1/admin/users', {
    schema: { operationId: 'adminListUsers', summary: 'List all users (instance administrators)', tags, querystring: ListUsersQuery, response: withErrors({ 200: List(UserSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.listUsers(req.principal!, req.query)));

  app.post('/v1/admin/users', {
    schema: { operationId: 'adminCreateUser', summary: 'Create a user (instance administrators)', tags, body: CreateUserBody, response: withErrors({ 201: One(UserSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.createUser(tx, req.principal!, req.body)) }));

  app.put('/v1/admin/workspaces/:id/rate-limit', {
    schema: {
      operationId: 'adminSetWorkspaceRateLimit',
      summary: "Set a workspace's rate limits over its plan's (instance administrators; null: the plan's)",
      tags,
      params: PathId,
      body: RateLimitBody,
      response: withErrors({ 200: One(WorkspaceRateLimitSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.setRateLimit(tx, req.principal!, req.params.id, req.body)) }));

  app.post('/v1/admin/users/:id/api-keys', {
    schema: {
      operationId: 'adminCreateUserApiKey',
      summary: 'Mint an API key for a user (instance administrators)',
      tags,
      params: PathId,
      body: CreateApiKeyBody,
      response: withErrors({ 201: One(CreatedApiKeySchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({
    data: await deps.mutate(req, reply, 201, (tx) => svc.createKeyFor(tx, req.principal!, req.params.id, req.body), { containsSecret: true }),
  }));
}

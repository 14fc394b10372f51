import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema, ListApiKeysQuery, SelfSchema } from './api-key.schemas.ts';

const tags = ['API keys'];

export function apiKeyRoutes(app: App, deps: Deps): void {
  const svc = deps.services.apiKeys;

  app.get('/v1/api-keys', {
    schema: { operationId: 'listApiKeys', summary: 'List your API keys', tags, querystring: ListApiKeysQuery, response: withErrors({ 200: List(ApiKeySchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.query)));

  app.post('/v1/api-keys', {
    schema: { operationId: 'createApiKey', summary: 'Create an API key for yourself (the secret is shown once)', tags, body: CreateApiKeyBody, response: withErrors({ 201: One(CreatedApiKeySchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.create(tx, req.principal!, req.body), { containsSecret: true }) }));

  app.get('/v1/api-keys/self', {
    schema: { operationId: 'getCurrentApiKey', summary: 'The key making this request, and its user', tags, response: withErrors({ 200: One(SelfSchema) }) },
  }, async (req) => ({ data: await svc.self(req.principal!) }));

  app.delete('/v1/api-keys/:id', {
    schema: { operationId: 'revokeApiKey', summary: 'Revoke one of your keys (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.revoke(tx, req.principal!, req.params.id)) }));
}

import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { DOCS_HTML } from './docs-page.ts';

const tags = ['System'];
const Problem = Type.Object({ status: Type.String(), error: Type.Optional(Type.String()) }, { additionalProperties: false });

export function systemRoutes(app: App, deps: Deps): void {
  const config = { public: true };

  app.get('/current-version', {
    config,
    schema: {
      operationId: 'getCurrentVersion',
      summary: 'The API version',
      tags,
      response: { 200: Type.Object({ version: Type.String({ description: 'Semantic version' }) }, { additionalProperties: false }) },
    },
  }, async () => ({ version: deps.config.version }));

  app.get('/healthz', {
    config,
    schema: { operationId: 'health', summary: 'The process is alive', tags, response: { 200: Problem } },
  }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    config,
    schema: { operationId: 'ready', summary: 'The database answers', tags, response: { 200: Problem, 503: Type.Unsafe({ ...Problem, description: 'The database does not answer' }) } },
  }, async (_req, reply) => {
    try {
      await deps.database.ping();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', error: 'database unreachable' });
    }
  });

  app.get('/metrics', {
    config,
    schema: { operationId: 'metrics', summary: 'Prometheus metrics', tags, produces: ['text/plain'], response: { 200: Type.String() } },
  }, async (_req, reply) => {
    void reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get('/openapi.json', {
    config,
    schema: {
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tags,
      response: { 200: Type.Object({ openapi: Type.String(), info: Type.Object({}, { additionalProperties: true }) }, { additionalProperties: true }) },
    },
  }, async () => app.swagger() as unknown as { openapi: string; info: object });

  app.get('/docs', {
    config,
    schema: { operationId: 'docs', summary: 'API reference page', tags, produces: ['text/html'], response: { 200: Type.String({ description: 'HTML' }) } },
  }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(DOCS_HTML));
}

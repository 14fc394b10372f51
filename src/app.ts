import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyReply, type FastifyServerOptions } from 'fastify';
import fastJson from 'fast-json-stringify';
import FindMyWay from 'find-my-way';
import { readFileSync } from 'node:fs';
import type { Deps } from './deps.ts';
import type { App } from './http/app-types.ts';
import { installAuth } from './http/auth.ts';
import { parseFormBody, parseJsonBody, parseQueryString } from './http/body.ts';
import { installErrorHandler } from './http/error-handler.ts';
import { ERROR_CODES } from './http/error-codes.ts';
import { AppError, envelope } from './http/errors.ts';
import { installEtags } from './http/etag.ts';
import { ErrorSchema } from './http/schemas.ts';
import { installValidation } from './http/validation.ts';
import { base62 } from './lib/ids.ts';
import { adminRoutes } from './modules/admin/admin.routes.ts';
import { apiKeyRoutes } from './modules/api-keys/api-key.routes.ts';
import { memberRoutes } from './modules/members/member.routes.ts';
import { projectRoutes } from './modules/projects/project.routes.ts';
import { systemRoutes } from './modules/system/system.routes.ts';
import { eventFeedRoutes } from './modules/events/feed.routes.ts';
import { sprintRoutes } from './modules/sprints/sprint.routes.ts';
import { labelRoutes } from './modules/labels/label.routes.ts';
import { webhookRoutes } from './modules/webhooks/webhook.routes.ts';
import { statusRoutes } from './modules/workflows/status.routes.ts';
import { commentRoutes } from './modules/comments/comment.routes.ts';
import { attachmentRoutes } from './modules/attachments/attachment.routes.ts';
import { taskRoutes } from './modules/tasks/task.routes.ts';
import { timeEntryRoutes, timeTrackingRoutes } from './modules/time-entries/time-entry.routes.ts';
import { timeReportRoutes } from './modules/time-reports/report.routes.ts';
import { workspaceRoutes } from './modules/workspaces/workspace.routes.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The router's limit on a path parameter, well above the schemas' (200): a parameter that breaks
 * its schema reaches validation, which refuses it with a 400 naming it, instead of the router
 * calling the path unknown. Header-size limits bound URLs anyway.
 */
const ROUTER_MAX_PARAM = 2000;

/**
 * Request ids need to be unique, not secret: a random per-process prefix and a counter are
 * unique across instances and restarts, and cost nothing per request (random bytes did).
 */
function requestIds(): () => string {
  const prefix = `req_${base62(10)}`;
  let n = 0;
  return () => `${prefix}${(n++).toString(36)}`;
}

/** Builds the HTTP application from its dependencies. It never listens; main.ts does. */
export interface BuildOptions {
  /** Called before any route is registered (tests attach response checks here). */
  instrument?: (app: App) => void;
}

export async function buildApp(deps: Deps, options: BuildOptions = {}): Promise<App> {
  const { config } = deps;
  const nextRequestId = requestIds();
  type Limits = { maxHeaderSize: number; connectionsCheckingInterval: number };
  const serverOptions: FastifyServerOptions & { https?: Limits & { cert: Buffer; key: Buffer }; http?: Limits } = {
    loggerInstance: deps.logger,
    // Per-request log lines only at debug level: at full load they would cost more than the request.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    bodyLimit: config.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    routerOptions: { querystringParser: (s: string) => parseQueryString(s), ignoreTrailingSlash: true, maxParamLength: ROUTER_MAX_PARAM },
    ajv: { customOptions: { removeAdditional: false } },
    return503OnClosing: true,
    // The router refuses some URLs before any hook runs; they still get the envelope and a request id.
    frameworkErrors: (err, request, reply) => {
      const e =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new AppError(404, 'NOT_FOUND', 'Resource not found')
          : new AppError(400, 'INVALID_URL', 'The URL is malformed');
      void (reply as unknown as FastifyReply)
        .code(e.status)
        .header('x-request-id', request.id)
        .header('x-content-type-options', 'nosniff')
        .send(envelope(e));
    },
    forceCloseConnections: 'idle',
  };
  // Slow clients are checked for every second (Node's default is every 30 s, which lets a client
  // hold a connection for up to 45 s past a 15 s headers timeout).
  const limits = { maxHeaderSize: config.maxHeaderBytes, connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs) };
  serverOptions.http = limits;
  if (config.tlsCert && config.tlsKey) serverOptions.https = { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey), ...limits };
  const app = Fastify(serverOptions).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  app.server.headersTimeout = config.headersTimeoutMs;
  app.server.requestTimeout = config.requestTimeoutMs;

  app.addSchema(ErrorSchema);
  installValidation(app, [ErrorSchema]);
  // Every route declares the same error responses; compile each distinct schema once.
  const serializers = new WeakMap<object, (data: unknown) => string>();
  app.setSerializerCompiler(({ schema }) => {
    let fn = serializers.get(schema as object);
    if (!fn) {
      fn = fastJson(schema as object, { schema: { Error: ErrorSchema } }) as (data: unknown) => string;
      serializers.set(schema as object, fn);
    }
    return fn;
  });
  installErrorHandler(app);

  app.removeAllContentTypeParsers();
  for (const type of ['application/json', /^application\/[\w.+-]+\+json$/]) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sprintlane API',
        version: config.version,
        description:
          'Self-hosted project management and time tracking. Authenticate with `Authorization: Bearer <key>`, ' +
          'a `PRIVATE-TOKEN` header, the `private_token` query parameter, or HTTP Basic (key id and secret).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          privateToken: { type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' },
          privateTokenQuery: { type: 'apiKey', in: 'query', name: 'private_token' },
          basic: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ bearer: [] }, { privateToken: [] }, { privateTokenQuery: [] }, { basic: [] }],
      // Every error code, with its status, its kind and the rule it states (error-codes.ts). The
      // plugin copies `x-` keys through; its types do not know them, hence the spread.
      ...({ 'x-error-codes': ERROR_CODES } as object),
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const s = { ...(schema as Record<string, unknown>) };
      if (route.config && (route.config as { public?: boolean }).public) s.security = [];
      return { schema: s as never, url };
    },
  });

  // A router of every route, to tell "no such path" (404) from "wrong method" (405 with Allow).
  const known = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: ROUTER_MAX_PARAM });
  const methodsByPattern = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let set = methodsByPattern.get(route.url);
    if (!set) {
      set = new Set();
      methodsByPattern.set(route.url, set);
      known.on('GET', route.url, () => {}, { pattern: route.url });
    }
    for (const m of methods) set.add(m);
    // Fastify answers HEAD for every GET route.
    if (set.has('GET')) set.add('HEAD');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const match = known.find('GET', path);
    const pattern = (match?.store as { pattern?: string } | undefined)?.pattern;
    if (pattern) {
      const allow = [...(methodsByPattern.get(pattern) ?? [])].sort().join(', ');
      return reply
        .code(405)
        .header('allow', allow)
        .send(envelope(new AppError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allow}`)));
    }
    return reply.code(404).send(envelope(new AppError(404, 'ROUTE_NOT_FOUND', `No route matches ${request.method} ${path}`)));
  });

  // CORS only for the configured origins, answered before authentication (a preflight carries no key).
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'PRIVATE-TOKEN', 'X-Request-Id'],
      exposedHeaders: ['ETag', 'Link', 'Retry-After', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed'],
      maxAge: 600,
      strictPreflight: true,
    });
  }
  installAuth(app, { config, resolver: deps.resolver, rateLimiter: deps.rateLimiter });
  app.addHook('onClose', async () => {
    deps.authBus?.close();
    deps.redis?.disconnect();
  });
  installEtags(app);

  // On shutdown, Node closes the keep-alive connections that are idle at that moment; one that was
  // busy would stay open after its response and hold the drain up until its client hung up.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    if (request.principal) reply.header('cache-control', 'no-store');
    // Over HTTPS (directly, or from a trusted proxy that says so), browsers are told to stay on it.
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (closing) request.raw.socket?.end();
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  options.instrument?.(app);

  systemRoutes(app, deps);
  workspaceRoutes(app, deps);
  memberRoutes(app, deps);
  projectRoutes(app, deps);
  taskRoutes(app, deps);
  sprintRoutes(app, deps);
  labelRoutes(app, deps);
  statusRoutes(app, deps);
  commentRoutes(app, deps);
  webhookRoutes(app, deps);
  // multipart/form-data is parsed only here (uploads): elsewhere it stays a 415, as any body
  // that is not JSON or a form is. The routes read the file part themselves, as a stream.
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: config.maxUploadBytes, files: 1 } });
    attachmentRoutes(uploads as unknown as App, deps);
  });
  eventFeedRoutes(app, deps);
  timeEntryRoutes(app, deps);
  timeTrackingRoutes(app, deps);
  timeReportRoutes(app, deps);
  apiKeyRoutes(app, deps);
  adminRoutes(app, deps);

  await app.ready();
  return app;
}

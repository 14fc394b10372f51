import { pino, type Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { ParallelReads } from './db/parallel-reads.ts';
import { KeyResolver } from './http/auth.ts';
import { makeMutate, type Mutate } from './http/mutation.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { randomIds, type Ids } from './lib/ids.ts';
import { AdminService } from './modules/admin/admin.service.ts';
import { ApiKeyService } from './modules/api-keys/api-key.service.ts';
import { MemberService } from './modules/members/member.service.ts';
import { ProjectService } from './modules/projects/project.service.ts';
import { EventFeedService } from './modules/events/feed.service.ts';
import { SprintService } from './modules/sprints/sprint.service.ts';
import path from 'node:path';
import { Redis } from 'ioredis';
import { AuthBus } from './http/auth-bus.ts';
import { AttachmentService } from './modules/attachments/attachment.service.ts';
import { AttachmentStore } from './modules/attachments/storage.ts';
import { CommentService } from './modules/comments/comment.service.ts';
import { StatusService } from './modules/workflows/status.service.ts';
import { LabelService } from './modules/labels/label.service.ts';
import { TaskBatchService } from './modules/tasks/task-batch.service.ts';
import { TaskService } from './modules/tasks/task.service.ts';
import { TimeEntryService } from './modules/time-entries/time-entry.service.ts';
import { TimeReportService } from './modules/time-reports/report.service.ts';
import { WebhookWorker } from './modules/webhooks/webhook-worker.ts';
import { WebhookTargets, type Resolve } from './modules/webhooks/webhook-targets.ts';
import { WebhookService } from './modules/webhooks/webhook.service.ts';
import { WorkspaceService } from './modules/workspaces/workspace.service.ts';
import { loadSecretKey, SecretBox } from './lib/secret-box.ts';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
}

export interface Deps {
  config: Config;
  database: Database;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  resolver: KeyResolver;
  rateLimiter: RateLimiter;
  /** The Redis client, with REDIS_URL: shared counters (rate limits). Closed with the app. */
  redis: Redis | undefined;
  /** With Redis: cache invalidations shared by every instance. Closed with the app. */
  authBus: AuthBus | undefined;
  mutate: Mutate;
  /** Attachments' files, under the data directory. */
  attachmentStore: AttachmentStore;
  metrics: Metrics;
  services: {
    workspaces: WorkspaceService;
    members: MemberService;
    projects: ProjectService;
    tasks: TaskService;
    taskBatch: TaskBatchService;
    labels: LabelService;
    statuses: StatusService;
    comments: CommentService;
    attachments: AttachmentService;
    sprints: SprintService;
    events: EventFeedService;
    timeEntries: TimeEntryService;
    timeReports: TimeReportService;
    apiKeys: ApiKeyService;
    admin: AdminService;
    webhooks: WebhookService;
  };
  /** Sends this instance's share of webhook deliveries (started by main, drained by tests). */
  webhookWorker: WebhookWorker;
}

/**
 * A Redis client for shared counters. Commands are never queued while it is disconnected: they
 * fail at once, and their callers fall back to memory (see RateLimiter). It reconnects by itself;
 * losing and finding Redis again are logged once each, not on every failed command.
 */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 200, 2000) });
  let down = false;
  redis.on('error', (err) => {
    if (down) return;
    down = true;
    logger.warn({ err: { message: err.message } }, 'Redis is unreachable: rate limits count in memory until it is back');
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis is back: rate limits count in Redis again');
    down = false;
  });
  return redis;
}

/** Keys never reach the logs: `private_token` in a URL is masked. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]private_token=)[^&]*/gi, '$1[REDACTED]');
}

export function createLogger(config: Config, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers["private-token"]'], censor: '[REDACTED]' },
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
      },
    },
    destination as never,
  );
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'sprintlane_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'sprintlane_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export function createDeps(
  config: Config,
  database: Database,
  overrides: { clock?: Clock; ids?: Ids; logger?: Logger; resolveHost?: Resolve; jitter?: () => number } = {},
): Deps {
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? randomIds;
  const logger = overrides.logger ?? createLogger(config);
  const db = database.db;
  const resolver = new KeyResolver(db, clock, config, (err) => logger.warn({ err }, 'background write failed'));
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  // With Redis, what one instance forgets every instance forgets (see AuthBus).
  const authBus = redis ? new AuthBus(redis, config.redisPrefix, resolver, logger) : undefined;
  const forgetting = authBus ?? resolver;
  const forget = { forgetUser: (id: string) => forgetting.forgetUser(id), forgetAll: () => forgetting.forgetAll() };
  const projects = new ProjectService({ db, clock, ids, forgetAll: forget.forgetAll });
  const timeEntries = new TimeEntryService({ db, clock, ids });
  const apiKeys = new ApiKeyService({ db, clock, ids, forgetKey: (id) => forgetting.forgetKey(id) });
  const attachmentStore = new AttachmentStore(path.join(config.dataDir, 'attachments'));
  const box = new SecretBox(() => loadSecretKey(config.secretKey, config.dataDir));
  const targets = new WebhookTargets(config.webhooks, overrides.resolveHost);
  const webhookWorker = new WebhookWorker({
    db,
    clock,
    ids,
    box,
    targets,
    timeoutMs: config.webhooks.timeoutMs,
    concurrency: config.webhooks.concurrency,
    endpointConcurrency: config.webhooks.endpointConcurrency,
    userAgent: `Sprintlane-Webhooks/${config.version}`,
    onError: (err, what) => logger.warn({ err }, `${what} failed`),
    jitter: overrides.jitter,
  });
  return {
    config,
    database,
    clock,
    ids,
    logger,
    resolver,
    rateLimiter: new RateLimiter(config, redis),
    redis,
    authBus,
    mutate: makeMutate(database, clock),
    attachmentStore,
    metrics: createMetrics(),
    services: {
      workspaces: new WorkspaceService({ db, clock, ids, ...forget }),
      members: new MemberService({ db, clock, ids, ...forget }),
      projects,
      tasks: new TaskService({ db, clock, ids, projects, attachments: attachmentStore }),
      taskBatch: new TaskBatchService({ clock, ids, projects }),
      labels: new LabelService({ db, clock, ids }),
      statuses: new StatusService({ db, clock, ids, projects }),
      comments: new CommentService({ db, clock, ids }),
      attachments: new AttachmentService({ database, clock, ids, store: attachmentStore, maxBytes: config.maxUploadBytes }),
      sprints: new SprintService({ db, clock, ids, projects }),
      events: new EventFeedService({ db }),
      timeEntries,
      timeReports: new TimeReportService({ db, clock, timeEntries, parallel: new ParallelReads(database.kind === 'postgres' ? 2 : 1, config.dbPoolSize) }),
      apiKeys,
      admin: new AdminService({ db, clock, ids, apiKeys, plans: config.rateLimit.plans, forgetAll: forget.forgetAll }),
      webhooks: new WebhookService({ db, clock, ids, box, targets, projects, wake: () => webhookWorker.wake() }),
    },
    webhookWorker,
  };
}

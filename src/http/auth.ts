import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiter } from './rate-limit.ts';
import type { Config, Plan, PlanLimit } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Role } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { hashSecret, plausibleSecret } from '../lib/crypto.ts';
import { allowsWrite, requiredScope, satisfies } from '../access/scopes.ts';
import { apiKeyRepository } from '../modules/api-keys/api-key.repository.ts';
import { AppError, errors } from './errors.ts';
import type { Principal } from './principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Public routes (health, version, OpenAPI) need no key. */
    public?: boolean;
  }
}

const PLAN_RANK: Record<Plan, number> = { free: 0, pro: 1, enterprise: 2 };
const TOUCH_EVERY_MS = 60_000;

interface Presented {
  secret: string;
  /** Set for HTTP Basic: the key id given as the user name must match the key. */
  keyId?: string;
}

/** Reads the credential from any of the four places a client may put it. */
export function presentedCredential(request: FastifyRequest, allowQueryToken: boolean): Presented | undefined {
  const authorization = request.headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    const scheme = authorization.slice(0, space).toLowerCase();
    const value = authorization.slice(space + 1).trim();
    if (scheme === 'bearer' && value) return { secret: value };
    if (scheme === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { keyId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
    }
    return { secret: '' };
  }
  const privateToken = request.headers['private-token'];
  if (typeof privateToken === 'string' && privateToken) return { secret: privateToken };
  if (allowQueryToken) {
    const q = (request.query as Record<string, unknown> | undefined)?.private_token;
    if (typeof q === 'string' && q) return { secret: q };
  }
  return undefined;
}

/**
 * Resolves secrets to principals. Resolved keys are cached by secret hash; revocation and
 * membership changes in this process drop the cache entry at once, and the TTL bounds how long
 * another instance may take to notice.
 */
export class KeyResolver {
  readonly #cache = new Map<string, { principal: Principal; until: number }>();
  readonly #touched = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** `ip`: the client's address, kept as the key's last_used_ip. */
  async resolve(presented: Presented, ip?: string): Promise<Principal | undefined> {
    if (!plausibleSecret(presented.secret)) return undefined;
    const hash = hashSecret(presented.secret);
    const now = this.clock.now().getTime();
    let principal: Principal | undefined;
    const hit = this.#cache.get(hash);
    if (hit && hit.until > now) principal = hit.principal;
    else {
      principal = await this.load(hash);
      if (!principal) return undefined;
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(hash, { principal, until: now + this.config.authCacheMs });
    }
    if (principal.expiresAt <= now) return undefined;
    if (presented.keyId !== undefined && presented.keyId !== principal.keyId) return undefined;
    this.touch(principal.keyId, now, ip);
    return principal;
  }

  private async load(hash: string): Promise<Principal | undefined> {
    const repo = apiKeyRepository(this.db);
    const key = await repo.findBySecretHash(hash);
    if (!key || key.revoked_at !== null) return undefined;
    const memberships = await repo.membershipsWithPlans(key.user_id);
    const relevant = key.workspace_id ? memberships.filter((m) => m.workspace_id === key.workspace_id) : memberships;
    return {
      keyId: key.id,
      userId: key.user_id,
      scopes: key.scopes,
      projectId: key.project_id,
      keyWorkspaceId: key.workspace_id,
      isInstanceAdmin: key.is_instance_admin,
      memberships: new Map(memberships.map((m) => [m.workspace_id, m.role as Role])),
      rateLimit: this.limitFor(relevant),
      expiresAt: new Date(key.expires_at).getTime(),
    };
  }

  /** A key is limited by the best plan among the workspaces it can reach. */
  private limitFor(memberships: Array<{ plan: Plan; rate_limit_hourly: number | null; rate_limit_burst: number | null }>): PlanLimit {
    let best: PlanLimit = this.config.rateLimit.plans.free;
    let bestRank = -1;
    for (const m of memberships) {
      const base = this.config.rateLimit.plans[m.plan];
      const limit = { hourly: m.rate_limit_hourly ?? base.hourly, burst: m.rate_limit_burst ?? base.burst };
      const rank = PLAN_RANK[m.plan];
      if (rank > bestRank || (rank === bestRank && limit.hourly > best.hourly)) {
        best = limit;
        bestRank = rank;
      }
    }
    return best;
  }

  /**
   * Records last use (when, and from which address) at most once a minute per key, off the
   * request's critical path: never a write per request.
   */
  private touch(keyId: string, now: number, ip: string | undefined): void {
    const last = this.#touched.get(keyId) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.#touched.set(keyId, now);
    apiKeyRepository(this.db).touch(keyId, new Date(now), ip?.slice(0, 64) ?? null).catch(this.onError);
  }

  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.#cache) if (entry.principal.keyId === keyId) this.#cache.delete(hash);
  }

  forgetAll(): void {
    this.#cache.clear();
  }

  forgetUser(userId: string): void {
    for (const [hash, entry] of this.#cache) if (entry.principal.userId === userId) this.#cache.delete(hash);
  }
}

function isLoopback(ip: string): boolean {
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1' || ip.startsWith('127.');
}

/** HTTPS enforcement, authentication, scope check and rate limiting, in that order, before any body is read. */
export function installAuth(
  app: FastifyInstance,
  deps: { config: Config; resolver: KeyResolver; rateLimiter: Pick<RateLimiter, 'check' | 'limiter'> },
): void {
  const { config, resolver } = deps;
  // Shared between instances like the per-key limits (in Redis when there is one).
  const failures = deps.rateLimiter.limiter('authfail', config.rateLimit.authFailuresPerMinute, 60);
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    if (config.requireHttps) {
      const socket = request.raw.socket as { encrypted?: boolean; remoteAddress?: string };
      const peer = socket.remoteAddress ?? '';
      const viaProxy = config.trustProxy.includes(peer) && request.headers['x-forwarded-proto'] === 'https';
      if (!socket.encrypted && !isLoopback(peer) && !viaProxy) {
        throw errors.forbidden('This server only accepts HTTPS', 'HTTPS_REQUIRED');
      }
    }
    if (request.routeOptions.config?.public) return;
    const presented = presentedCredential(request, config.allowQueryToken);
    // An unknown path (404) or method (405) without a key is answered as such; with a key it is
    // authenticated and counted like any other request, and carries the rate-limit headers.
    if (request.is404 && !presented) return;
    const ip = request.ip;
    const blocked = await failures.get(ip);
    if (blocked && blocked.consumedPoints >= config.rateLimit.authFailuresPerMinute) {
      throw tooManyFailures(blocked);
    }
    const principal = presented ? await resolver.resolve(presented, request.ip) : undefined;
    if (!principal) {
      if (presented) await failures.consume(ip).catch(() => {});
      throw errors.unauthorized();
    }
    request.principal = principal;
    await deps.rateLimiter.check(principal, reply);
    if (!request.is404) {
      const schema = request.routeOptions.schema as { tags?: string[]; operationId?: string } | undefined;
      const required = requiredScope(schema?.tags?.[0], request.method, schema?.operationId);
      if (!satisfies(principal.scopes, required)) {
        const message = allowsWrite(principal.scopes) ? `This API key's scopes do not include ${required}` : `This API key is read-only; this needs ${required}`;
        throw new AppError(403, 'INSUFFICIENT_SCOPE', message, undefined, { required_scope: required, key_scopes: principal.scopes });
      }
    }
  });
}

function tooManyFailures(res: RateLimiterRes): AppError {
  const retry = String(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
  return new AppError(429, 'TOO_MANY_AUTH_FAILURES', 'Too many failed authentication attempts from this address', undefined, undefined, {
    'retry-after': retry,
  });
}

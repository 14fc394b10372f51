import type { FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config, PlanLimit } from '../config.ts';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

interface Pair {
  hourly: RateLimiterAbstract;
  burst: RateLimiterAbstract;
  /** The RateLimit-Policy header of these limits, made once. */
  policy: string;
}

/**
 * Per-key limits: a per-minute burst cap checked first (a request it refuses costs no hourly
 * quota), then the hourly quota reported in X-RateLimit-* and in the IETF RateLimit headers.
 *
 * With REDIS_URL the counters live in Redis, so that every instance counts the same requests
 * (rate-limiter-flexible's atomic Lua scripts keep counting exact under concurrency). If Redis is
 * unreachable, each limiter falls back to an in-memory one of the same limits (its insurance
 * limiter) and requests keep being served; once the client has reconnected, Redis counts again.
 */
export class RateLimiter {
  readonly #pairs = new Map<string, Pair>();

  constructor(
    private readonly config: Config,
    private readonly redis?: Redis,
  ) {}

  /** Where the counters are kept. */
  get store(): 'redis' | 'memory' {
    return this.redis ? 'redis' : 'memory';
  }

  /** A limiter of `points` per `duration` seconds in the configured store. */
  limiter(name: string, points: number, duration: number): RateLimiterAbstract {
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration });
    if (!this.redis) return memory;
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${this.config.redisPrefix}${name}`,
      points,
      duration,
      // Not ready (connecting, or gone): answer from memory at once rather than wait.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
    });
  }

  private pair(limit: PlanLimit): Pair {
    const id = `${limit.hourly}/${limit.burst}`;
    let p = this.#pairs.get(id);
    if (!p) {
      p = {
        hourly: this.limiter(`h${id}`, limit.hourly, 3600),
        burst: this.limiter(`b${id}`, limit.burst, 60),
        policy: `"hour";q=${limit.hourly};w=3600, "minute";q=${limit.burst};w=60`,
      };
      this.#pairs.set(id, p);
    }
    return p;
  }

  async check(principal: Principal, reply: FastifyReply): Promise<void> {
    if (!this.config.rateLimit.enabled) return;
    const limit = principal.rateLimit;
    const { hourly, burst, policy } = this.pair(limit);
    const key = principal.keyId;
    void reply.header('ratelimit-policy', policy);
    try {
      await burst.consume(key);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      const current = await hourly.get(key);
      setHeaders(reply, limit.hourly, current ? Math.max(0, limit.hourly - current.consumedPoints) : limit.hourly, current?.msBeforeNext ?? 3_600_000);
      void reply.header('ratelimit', `"minute";r=0;t=${seconds(rejected.msBeforeNext)}`);
      throw limited(rejected, 'Too many requests this minute');
    }
    try {
      const res = await hourly.consume(key);
      setHeaders(reply, limit.hourly, res.remainingPoints, res.msBeforeNext);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      setHeaders(reply, limit.hourly, 0, rejected.msBeforeNext);
      throw limited(rejected, 'Hourly request quota exhausted');
    }
  }
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

function setHeaders(reply: FastifyReply, limit: number, remaining: number, msBeforeReset: number): void {
  const left = Math.max(0, remaining);
  reply.header('x-ratelimit-limit', String(limit));
  reply.header('x-ratelimit-remaining', String(left));
  reply.header('x-ratelimit-reset', String(Math.ceil((Date.now() + msBeforeReset) / 1000)));
  reply.header('ratelimit', `"hour";r=${left};t=${seconds(msBeforeReset)}`);
}

function limited(res: RateLimiterRes, message: string): AppError {
  return new AppError(429, 'RATE_LIMITED', message, undefined, undefined, {
    'retry-after': String(Math.max(1, seconds(res.msBeforeNext))),
  });
}

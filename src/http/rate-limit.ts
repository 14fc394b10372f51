import type { FastifyReply } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, PlanLimit } from '../config.ts';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

interface Pair {
  hourly: RateLimiterMemory;
  burst: RateLimiterMemory;
}

/**
 * Per-key limits: a per-minute burst cap checked first (a request it refuses costs no hourly
 * quota), then the hourly quota reported in X-RateLimit-*. In-memory for now; a Redis store
 * shares the counters between instances (issue 5).
 */
export class RateLimiter {
  readonly #pairs = new Map<string, Pair>();

  constructor(private readonly config: Config) {}

  private pair(limit: PlanLimit): Pair {
    const id = `${limit.hourly}/${limit.burst}`;
    let p = this.#pairs.get(id);
    if (!p) {
      p = {
        hourly: new RateLimiterMemory({ keyPrefix: `h${id}`, points: limit.hourly, duration: 3600 }),
        burst: new RateLimiterMemory({ keyPrefix: `b${id}`, points: limit.burst, duration: 60 }),
      };
      this.#pairs.set(id, p);
    }
    return p;
  }

  async check(principal: Principal, reply: FastifyReply): Promise<void> {
    if (!this.config.rateLimit.enabled) return;
    const limit = principal.rateLimit;
    const { hourly, burst } = this.pair(limit);
    const key = principal.keyId;
    try {
      await burst.consume(key);
    } catch (rejected) {
      if (!(rejected instanceof RateLimiterRes)) throw rejected;
      const current = await hourly.get(key);
      setHeaders(reply, limit.hourly, current ? Math.max(0, limit.hourly - current.consumedPoints) : limit.hourly, current?.msBeforeNext ?? 3_600_000);
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

function setHeaders(reply: FastifyReply, limit: number, remaining: number, msBeforeReset: number): void {
  reply.header('x-ratelimit-limit', String(limit));
  reply.header('x-ratelimit-remaining', String(Math.max(0, remaining)));
  reply.header('x-ratelimit-reset', String(Math.ceil((Date.now() + msBeforeReset) / 1000)));
}

function limited(res: RateLimiterRes, message: string): AppError {
  return new AppError(429, 'RATE_LIMITED', message, undefined, undefined, {
    'retry-after': String(Math.max(1, Math.ceil(res.msBeforeNext / 1000))),
  });
}

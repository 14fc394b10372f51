// Rate limits in each store: exact under concurrency in memory and in Redis, shared by two real
// server processes through one Redis, and still served (in memory) while Redis is away.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { makeUser, type Actor } from '../factories.ts';
import { killAllServers, startServer } from '../helpers/server-process.ts';

const REDIS_URL = process.env.SPRINTLANE_TEST_REDIS_URL;
const apps: TestApp[] = [];
afterEach(async () => {
  await killAllServers();
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

async function app(env: Record<string, string>) {
  const made = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '30', SPRINTLANE_RATE_LIMIT_FREE_BURST: '1000', ...env } });
  apps.push(made);
  return made;
}

/** 50 requests at once with one key: exactly `quota` pass, each with its own Remaining, the rest 429 with Retry-After. */
async function fifty(t: TestApp, who: Actor, quota: number) {
  const results = await Promise.all(Array.from({ length: 50 }, () => t.request({ url: '/v1/api-keys/self', key: who.key })));
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 429);
  expect(ok.length).toBe(quota);
  expect(limited.length).toBe(50 - quota);
  expect(new Set(ok.map((r) => r.headers['x-ratelimit-remaining'])).size).toBe(quota);
  expect(ok.map((r) => Number(r.headers['x-ratelimit-remaining'])).sort((a, b) => a - b)).toEqual(Array.from({ length: quota }, (_, i) => i));
  for (const r of limited) {
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(r.headers['x-ratelimit-remaining']).toBe('0');
  }
  return results;
}

describe('rate limit stores', () => {
  it('counts exactly under 50 concurrent requests in memory, with the IETF RateLimit headers as well', async () => {
    const t = await app({ REDIS_URL: '' });
    expect(t.deps.rateLimiter.store).toBe('memory');
    const who = await makeUser(t);
    const results = await fifty(t, who, 30);
    const one = results.find((r) => r.status === 200)!;
    expect(one.headers['ratelimit-policy']).toBe('"hour";q=30;w=3600, "minute";q=1000;w=60');
    expect(one.headers.ratelimit).toMatch(new RegExp(`^"hour";r=${one.headers['x-ratelimit-remaining']};t=\\d+$`));
  });

  it.skipIf(!REDIS_URL)('counts exactly under 50 concurrent requests in Redis', async () => {
    const t = await app({ REDIS_URL: REDIS_URL!, SPRINTLANE_REDIS_PREFIX: `sltest:${randomBytes(6).toString('hex')}:` });
    expect(t.deps.rateLimiter.store).toBe('redis');
    await fifty(t, await makeUser(t), 30);
  });

  it.skipIf(!REDIS_URL)('in Redis too, requests refused by the burst cap use no hourly quota', async () => {
    const t = await app({ REDIS_URL: REDIS_URL!, SPRINTLANE_REDIS_PREFIX: `sltest:${randomBytes(6).toString('hex')}:`, SPRINTLANE_RATE_LIMIT_FREE_BURST: '4' });
    const who = await makeUser(t);
    const statuses: number[] = [];
    let remaining: unknown;
    for (let i = 0; i < 9; i++) {
      const res = await t.request({ url: '/v1/api-keys/self', key: who.key });
      statuses.push(res.status);
      remaining = res.headers['x-ratelimit-remaining'];
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429]);
    expect(remaining).toBe('26');
  });

  it.skipIf(!REDIS_URL || !process.env.SPRINTLANE_TEST_DATABASE_URL)('two server processes sharing one Redis count the same quota', async () => {
    // Both on one PostgreSQL database (the embedded one is single-process), one Redis prefix.
    const t = await app({});
    const who = await makeUser(t);
    const env = {
      DATABASE_URL: t.databaseUrl!,
      REDIS_URL: REDIS_URL!,
      SPRINTLANE_REDIS_PREFIX: t.deps.config.redisPrefix,
      SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '30',
      SPRINTLANE_RATE_LIMIT_FREE_BURST: '1000',
    };
    const [a, b] = await Promise.all([startServer({ env }), startServer({ env })]);
    const call = (s: typeof a) => fetch(`${s.url}/v1/api-keys/self`, { headers: { authorization: `Bearer ${who.key}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call(i % 2 ? a : b)).status);
    expect(statuses.filter((s) => s === 200).length).toBe(30);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
  });

  it.skipIf(!REDIS_URL)('keeps serving under an in-memory limit while Redis is away, and counts in Redis again once it is back', async () => {
    const port = await freePort();
    let redis = startRedis(port);
    await waitForRedis(port);
    const prefix = `sltest:${randomBytes(6).toString('hex')}:`;
    const t = await app({ REDIS_URL: `redis://127.0.0.1:${port}`, SPRINTLANE_REDIS_PREFIX: prefix });
    const who = await makeUser(t);
    const self = () => t.request({ url: '/v1/api-keys/self', key: who.key });
    expect((await self()).status).toBe(200);
    const probe = new Redis(port, { lazyConnect: true });
    await probe.connect();
    expect((await probe.keys(`${prefix}*`)).length).toBeGreaterThan(0);
    probe.disconnect();

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    const during = await Promise.all(Array.from({ length: 5 }, () => self()));
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(during.every((r) => r.headers['x-ratelimit-remaining'] !== undefined)).toBe(true);

    redis = startRedis(port);
    await waitForRedis(port);
    const back = new Redis(port, { lazyConnect: true });
    await back.connect();
    try {
      let seen = 0;
      for (let i = 0; i < 50 && seen === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expect((await self()).status).toBe(200);
        seen = (await back.keys(`${prefix}*`)).length;
      }
      expect(seen, 'the server never counted in Redis again').toBeGreaterThan(0);
    } finally {
      back.disconnect();
      redis.kill('SIGKILL');
    }
  });
});

function startRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not start on ${port}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// Real server processes: the start-up, locking, signal and durability rules of PRODUCT.md
// ("Running it", "Limits and durability") that only a real process can show.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, it, type TestContext } from 'vitest';
import {
  freshDataDir,
  killAllServers,
  printedKeys,
  removeTempDirs,
  spawnServer,
  startServer,
  type ServerProcess,
  type SpawnOptions,
} from './helpers/server-process.ts';

const SLOW = 180_000;
const pgUrl = process.env.SPRINTLANE_TEST_DATABASE_URL;

/** Servers started by the test that is running, so its cleanup never touches another test's. */
const owned = new Map<string, ServerProcess[]>();

function own(ctx: TestContext, p: ServerProcess): ServerProcess {
  const list = owned.get(ctx.task.id) ?? [];
  list.push(p);
  owned.set(ctx.task.id, list);
  return p;
}

async function start(ctx: TestContext, opts: SpawnOptions = {}): Promise<ServerProcess> {
  const p = startServer(opts);
  // startServer kills what it started if the start fails; register the process once it is up.
  return own(ctx, await p);
}

function spawnOwned(ctx: TestContext, opts: SpawnOptions = {}): ServerProcess {
  return own(ctx, spawnServer(opts));
}

afterEach(async (ctx) => {
  const list = owned.get(ctx.task.id) ?? [];
  owned.delete(ctx.task.id);
  for (const p of list) p.signal('SIGKILL');
  await Promise.all(list.map((p) => p.exited));
});

afterAll(async () => {
  await killAllServers();
  removeTempDirs();
});

function token(): string {
  return `sltest_${randomBytes(24).toString('hex')}`;
}

function lockHolder(dataDir: string): { pid: number } | null {
  const file = path.join(dataDir, 'sprintlane.lock');
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
}

async function defaultWorkspace(p: ServerProcess, key: string): Promise<string> {
  const res = await p.request('GET', '/v1/workspaces', { key });
  if (res.status !== 200) throw new Error(`GET /v1/workspaces: ${res.status} ${res.text}`);
  return res.body.data[0].id as string;
}

async function createProject(p: ServerProcess, key: string, name: string): Promise<string> {
  const ws = await defaultWorkspace(p, key);
  const res = await p.request('POST', `/v1/workspaces/${ws}/projects`, { key, body: { name } });
  if (res.status !== 201) throw new Error(`create project: ${res.status} ${res.text}`);
  return res.body.data.id as string;
}

async function listTasks(p: ServerProcess, key: string, projectId: string): Promise<Array<{ id: string; title: string }>> {
  const res = await p.request('GET', `/v1/projects/${projectId}/tasks?per_page=100`, { key });
  if (res.status !== 200) throw new Error(`list tasks: ${res.status} ${res.text}`);
  return res.body.data as Array<{ id: string; title: string }>;
}

// The embedded-database tests run in the PGlite pass of the suite; the PostgreSQL test in the
// PostgreSQL pass. (Cold-start time is measured by `npm run bench`, not asserted here.)
describe.skipIf(Boolean(pgUrl))('server process: clean restart', () => {
  it('after SIGTERM, a restart on the same data dir serves what was written before', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const first = await start(ctx, { env: { SPRINTLANE_ADMIN_TOKEN: key } });
    const projectId = await createProject(first, key, 'Clean restart');
    expect((await first.stop()).code).toBe(0);

    const second = await start(ctx, { dataDir: first.dataDir, env: { SPRINTLANE_ADMIN_TOKEN: key } });
    expect((await second.request('GET', `/v1/projects/${projectId}`, { key })).status).toBe(200);
  });
});

describe.skipIf(Boolean(pgUrl)).concurrent('server process (embedded database)', () => {
  it('`npm start` on a fresh data dir honours SPRINTLANE_ADMIN_TOKEN and SPRINTLANE_ADMIN_EMAIL: an instance-admin owner with one workspace', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const email = `ops-${randomBytes(3).toString('hex')}@example.test`;
    const p = await start(ctx, { viaNpm: true, env: { SPRINTLANE_ADMIN_TOKEN: key, SPRINTLANE_ADMIN_EMAIL: email } });

    const health = await p.request('GET', '/healthz');
    expect(health.status).toBe(200);

    const self = await p.request('GET', '/v1/api-keys/self', { key });
    expect(self.status, self.text).toBe(200);
    expect(self.body.data.user.email).toBe(email);
    expect(self.body.data.is_instance_admin).toBe(true);

    const workspaces = await p.request('GET', '/v1/workspaces', { key });
    expect(workspaces.status, workspaces.text).toBe(200);
    expect(workspaces.body.data).toHaveLength(1);
    expect(workspaces.body.meta.total).toBe(1);

    // A token the operator chose is never echoed, and no other key is generated.
    expect(p.stdout() + p.stderr()).not.toContain(key);
    expect(printedKeys(p.stdout() + p.stderr())).toEqual([]);
  });

  it('without SPRINTLANE_ADMIN_TOKEN the first start prints one slk_ key that works; a restart prints none and the key still works', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const first = await start(ctx);
    const keys = printedKeys(first.stdout());
    expect(keys, first.stdout()).toHaveLength(1);
    const key = keys[0]!;
    expect(key).toMatch(/^slk_/);
    expect(first.stderr()).not.toContain(key);

    const self = await first.request('GET', '/v1/api-keys/self', { key });
    expect(self.status, self.text).toBe(200);
    expect(self.body.data.is_instance_admin).toBe(true);
    expect((await first.request('GET', '/v1/api-keys/self', { key: `slk_${'x'.repeat(40)}` })).status).toBe(401);
    expect((await first.stop()).code).toBe(0);

    const second = await start(ctx, { dataDir: first.dataDir });
    expect(printedKeys(second.stdout() + second.stderr())).toEqual([]);
    expect(second.stdout()).not.toContain('first start');
    const again = await second.request('GET', '/v1/api-keys/self', { key });
    expect(again.status, again.text).toBe(200);
    expect(again.body.data.id).toBe(self.body.data.id);
  });

  it('a second server on the same data dir refuses to start, naming the holder pid, and the first keeps serving', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const first = await start(ctx, { env: { SPRINTLANE_ADMIN_TOKEN: key } });
    expect(lockHolder(first.dataDir)?.pid).toBe(first.pid);

    const second = spawnOwned(ctx, { dataDir: first.dataDir, env: { SPRINTLANE_ADMIN_TOKEN: key } });
    const exit = await second.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(second.stderr()).toMatch(new RegExp(`\\b${first.pid}\\b`));
    expect(second.stdout()).not.toContain('Sprintlane is listening');

    expect(first.exit()).toBeUndefined();
    expect((await first.request('GET', '/healthz')).status).toBe(200);
    const self = await first.request('GET', '/v1/api-keys/self', { key });
    expect(self.status, self.text).toBe(200);
    const projectId = await createProject(first, key, 'Still serving');
    expect((await first.request('GET', `/v1/projects/${projectId}`, { key })).status).toBe(200);
    expect(lockHolder(first.dataDir)?.pid).toBe(first.pid);
  });

  it('after SIGKILL a new server takes over the stale lock and serves the data written before', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const first = await start(ctx, { env: { SPRINTLANE_ADMIN_TOKEN: key } });
    const projectId = await createProject(first, key, 'Survives a kill');
    expect((await first.kill()).signal).toBe('SIGKILL');
    expect(lockHolder(first.dataDir)?.pid).toBe(first.pid); // the stale lock is really there

    const second = await start(ctx, { dataDir: first.dataDir, env: { SPRINTLANE_ADMIN_TOKEN: key } });
    expect(lockHolder(second.dataDir)?.pid).toBe(second.pid);
    const project = await second.request('GET', `/v1/projects/${projectId}`, { key });
    expect(project.status, project.text).toBe(200);
    expect(project.body.data.name).toBe('Survives a kill');
  });

  it('SIGTERM during concurrent task creates: every 2xx-acknowledged task survives, no 500s, exit code 0, lock file removed', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const env = { SPRINTLANE_ADMIN_TOKEN: key };
    const first = await start(ctx, { env });
    const projectId = await createProject(first, key, 'Drain');

    // 50 keep-alive connections opened beforehand, so that every create reaches an accepted
    // connection and the SIGTERM lands while the server is working on them.
    const N = 50;
    const agent = new http.Agent({ keepAlive: true, maxSockets: N });
    ctx.onTestFinished(() => agent.destroy());
    const warm = await Promise.all(Array.from({ length: N }, () => rawRequest(agent, first.url, 'GET', '/healthz')));
    expect(warm.every((r) => r.status === 200)).toBe(true);
    expect(Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length).toBe(N);

    let settled = 0;
    let firstAnswer!: () => void;
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    const outcomes = Array.from({ length: N }, (_, i) =>
      rawRequest(agent, first.url, 'POST', `/v1/projects/${projectId}/tasks`, key, { title: `drain ${i}` })
        .then(
          (res) => ({ i, status: res.status, id: res.status >= 200 && res.status < 300 ? (res.body.data.id as string) : undefined, text: res.text }),
          (err: unknown) => ({ i, status: 0, id: undefined, text: String(err) }),
        )
        .finally(() => {
          settled += 1;
          firstAnswer();
        }),
    );
    await answered;
    const inFlight = N - settled;
    first.signal('SIGTERM');
    const results = await Promise.all(outcomes);
    const exit = await first.exited;

    const statuses = results.map((r) => r.status);
    console.log(`SIGTERM with ${inFlight} of ${N} creates in flight; answers: ${JSON.stringify(countBy(statuses))}`);
    expect(inFlight, 'SIGTERM must land while creates are in flight').toBeGreaterThan(0);
    expect(exit, first.stderr()).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(first.dataDir, 'sprintlane.lock'))).toBe(false);
    // Refused requests are refused cleanly (503 or a closed connection), never with a server error.
    expect(results.filter((r) => r.status !== 0 && r.status !== 503 && (r.status < 200 || r.status >= 300))).toEqual([]);
    const acked = results.filter((r) => r.id !== undefined);
    expect(acked.length).toBeGreaterThan(0);

    const second = await start(ctx, { dataDir: first.dataDir, env });
    const tasks = await listTasks(second, key, projectId);
    const byId = new Map(tasks.map((t) => [t.id, t.title]));
    const missing = acked.filter((r) => byId.get(r.id!) !== `drain ${r.i}`);
    expect(missing).toEqual([]);
  });

  it('no acknowledged write is lost when the server is SIGKILLed right after the last 201', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const key = token();
    const env = { SPRINTLANE_ADMIN_TOKEN: key };
    const first = await start(ctx, { env });
    const projectId = await createProject(first, key, 'Durable');
    const N = 40;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const res = await first.request('POST', `/v1/projects/${projectId}/tasks`, { key, body: { title: `durable ${i}` } });
      expect(res.status, res.text).toBe(201);
      ids.push(res.body.data.id as string);
    }
    first.signal('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await start(ctx, { dataDir: first.dataDir, env });
    const tasks = await listTasks(second, key, projectId);
    expect(tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
    const last = await second.request('GET', `/v1/tasks/${ids[N - 1]}`, { key });
    expect(last.status, last.text).toBe(200);
    expect(last.body.data.title).toBe(`durable ${N - 1}`);
  });

});

describe.skipIf(!pgUrl)('server process (PostgreSQL)', () => {
  it('on PostgreSQL two servers starting at once on a fresh database both migrate and serve, with exactly one bootstrap key', { timeout: SLOW }, async (ctx) => {
    const { expect } = ctx;
    const name = `sl_proc_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const u = new URL(pgUrl!);
      u.pathname = `/${name}`;
      const env = { DATABASE_URL: u.toString() };
      // Each with its own (unused) data dir: a PostgreSQL-backed server takes no data-dir lock anyway.
      const [a, b] = await Promise.all([start(ctx, { dataDir: freshDataDir(), env }), start(ctx, { dataDir: freshDataDir(), env })]);
      for (const p of [a, b]) {
        expect(p.stderr(), p.stderr()).toBe('');
        expect(p.stdout()).toContain('"database":"postgres"');
      }
      const keys = [...printedKeys(a.stdout()), ...printedKeys(b.stdout())];
      expect(keys, a.stdout() + b.stdout()).toHaveLength(1);
      const key = keys[0]!;
      for (const p of [a, b]) {
        const self = await p.request('GET', '/v1/api-keys/self', { key });
        expect(self.status, self.text).toBe(200);
        expect(self.body.data.is_instance_admin).toBe(true);
        const ws = await p.request('GET', '/v1/workspaces', { key });
        expect(ws.status, ws.text).toBe(200);
        expect(ws.body.data).toHaveLength(1);
      }
      const projectId = await createProject(a, key, 'Shared');
      expect((await b.request('GET', `/v1/projects/${projectId}`, { key })).status).toBe(200);
      const direct = new pg.Client({ connectionString: u.toString() });
      await direct.connect();
      try {
        const counts = await direct.query<{ users: string; keys: string; workspaces: string }>(
          'select (select count(*) from users) as users, (select count(*) from api_keys) as keys, (select count(*) from workspaces) as workspaces',
        );
        expect(counts.rows[0]).toEqual({ users: '1', keys: '1', workspaces: '1' });
      } finally {
        await direct.end();
      }
      expect((await a.stop()).code).toBe(0);
      expect((await b.stop()).code).toBe(0);
    } finally {
      await killAllOwned(ctx);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

async function killAllOwned(ctx: TestContext): Promise<void> {
  const list = owned.get(ctx.task.id) ?? [];
  for (const p of list) p.signal('SIGKILL');
  await Promise.all(list.map((p) => p.exited));
}

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** One request over a given keep-alive agent (fetch cannot be told which connections to use). */
function rawRequest(agent: http.Agent, base: string, method: string, urlPath: string, key?: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(new URL(urlPath, base), { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: any;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

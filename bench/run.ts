// `npm run bench`: measures Sprintlane against a bare node:http floor and checks the budgets of
// issue 2. Embedded database by default; DATABASE_URL=postgres://… runs it on a fresh database
// created on that server (and dropped at the end).
//
// Each measured run of a scenario is paired with a run of the bare server just before it, and the
// ratio is the median of the pairs' ratios: this machine's speed drifts by a factor of two within
// minutes, and a floor measured only at the start and the end moved the ratio from 3.7% to 6.7%
// between two runs of the same build.
//
// Environment: BENCH_DURATION (seconds per measured run, default 5), BENCH_WARMUP (seconds of
// warm-up before each scenario, default 2), BENCH_REPEAT (measured pairs per scenario, medians
// reported, default 3), BENCH_COLD_STARTS (default 3), BENCH_TASKS (default 100000),
// BENCH_PROJECTS (default 20), BENCH_ANALYZE (default 1: VACUUM (ANALYZE) after seeding), BENCH_CPU_PROF
// (1: run the measured server under --cpu-prof, profile written into bench/results/),
// BENCH_STRICT (1: exit 3 when a budget is missed), BENCH_START_TIMEOUT (seconds a server start may
// take before the run fails, default 300), BENCH_ONLY (comma-separated scenario keys to measure:
// get_task, list_tasks, create_task; default all; budgets of skipped scenarios read "not measured"),
// BENCH_SERVER_ENV (space-separated NAME=value pairs given to the measured server, for experiments
// such as SPRINTLANE_DB_POOL_SIZE=32; recorded in the JSON).
//
// Time tracking (issue 3; BENCH_ONLY keys time_reports and timer): BENCH_TIME_ENTRIES entries
// (default 1000000) of BENCH_TIME_USERS users (default 50) over the past year in the projects;
// analytics, team, reports (by day) and timeline over 90 days, BENCH_TIME_REQUESTS sequential
// requests each (default 40, after 5 unmeasured), and BENCH_TIMER_PAIRS timer start/stop pairs
// (default 200): p50 and p99 of each.
//
// Change feed (issue 4; BENCH_ONLY key feed): BENCH_FEED_EVENTS events (default 1000000) in the
// workspace, and BENCH_FEED_REQUESTS sequential pages of 1,000 from random cursors (default 40).
//
// Sprint report (issue 4; BENCH_ONLY key sprint_report): a sprint of 500 tasks planned through the
// API, started, then worked on (300 tasks moved to in_progress and 250 of them to done, 40 added,
// 20 removed, 100 re-estimated); BENCH_AGILE_REQUESTS sequential reports (default 40).
// Batch update (issue 4; BENCH_ONLY key batch_update): BENCH_AGILE_REQUESTS sequential
// PATCH /v1/tasks/batch of 100 seeded tasks each (a title and a priority per task, every task
// changed, a different 100 each time).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { openPglite } from '../src/db/database.ts';
import { encodeCursor } from '../src/modules/events/feed.service.ts';
import { combine, median, runLoad, stopLoad, type LoadResult } from './load.ts';
import { closeKeptAlive, cpuSecondsOf, freePort, keptAliveRequest, memoryOf, onCleanup, runCleanups, spawnNode, spawnWithPortLine, stopChild, tail, waitHealthy, type Spawned } from './proc.ts';
import { seedEvents, seedTasks, seededTaskId, seedTimeEntries, type Exec } from './seed.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

function envInt(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const DURATION = envInt('BENCH_DURATION', 5, 1);
const WARMUP = envInt('BENCH_WARMUP', 2, 0);
const REPEAT = Math.round(envInt('BENCH_REPEAT', 3, 1));
const COLD_STARTS = Math.round(envInt('BENCH_COLD_STARTS', 3, 1));
const TASKS = Math.round(envInt('BENCH_TASKS', 100_000, 1));
const PROJECTS = Math.round(envInt('BENCH_PROJECTS', 20, 1));
const ANALYZE = process.env.BENCH_ANALYZE !== '0';
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const STRICT = process.env.BENCH_STRICT === '1';
const START_TIMEOUT_MS = envInt('BENCH_START_TIMEOUT', 300, 1) * 1000;
const CONNECTIONS = [1, 32];
const SERVER_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '').split(/\s+/).filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`BENCH_SERVER_ENV: ${JSON.stringify(pair)} is not NAME=value`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  }),
);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
const TIME_ENTRIES = Math.round(envInt('BENCH_TIME_ENTRIES', 1_000_000, 1));
const TIME_USERS = Math.round(envInt('BENCH_TIME_USERS', 50, 1));
const TIME_REQUESTS = Math.round(envInt('BENCH_TIME_REQUESTS', 40, 1));
const TIMER_PAIRS = Math.round(envInt('BENCH_TIMER_PAIRS', 200, 1));
const TIME = !ONLY || ONLY.has('time_reports') || ONLY.has('timer');
const FEED = !ONLY || ONLY.has('feed');
const FEED_EVENTS = Math.round(envInt('BENCH_FEED_EVENTS', 1_000_000, 1));
const FEED_REQUESTS = Math.round(envInt('BENCH_FEED_REQUESTS', 40, 1));
const FEED_PAGE_P50_MS = 50;
const SPRINT_REPORT = !ONLY || ONLY.has('sprint_report');
const AGILE_REQUESTS = Math.round(envInt('BENCH_AGILE_REQUESTS', 40, 1));
const SPRINT_REPORT_P50_MS = 100;
const BATCH_UPDATE = !ONLY || ONLY.has('batch_update');
const BATCH_UPDATE_P50_MS = 150;
const DATABASE_URL = process.env.DATABASE_URL || undefined;
const KIND: 'pglite' | 'postgres' = DATABASE_URL ? 'postgres' : 'pglite';

const BUDGETS = {
  pglite: { getRatio: 0.06, getP99Ms: 50 as number | null, listRatio: 0.04, createRps: 800 },
  postgres: { getRatio: 0.12, getP99Ms: null as number | null, listRatio: 0.06, createRps: 1500 },
}[KIND];
const COLD_START_BUDGET_MS = 2000;
/** Issue 3: p50 of each report over 90 days of a million entries, and of a timer start/stop pair. */
const TIME_BUDGETS = { reportP50Ms: KIND === 'pglite' ? 100 : 50, timerPairP50Ms: 10 };

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Signals: Ctrl-C (or a SIGTERM to the bench) still cleans up, then exits non-zero.

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    stopLoad();
    void runCleanups().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The Sprintlane server under test.

interface ServerHandle {
  spawned: Spawned;
  port: number;
  base: string;
}

const token = `bench_${randomBytes(24).toString('hex')}`;
const auth = { authorization: `Bearer ${token}` };

function serverEnv(o: { port: number; dataDir: string; databaseUrl: string | undefined }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  for (const key of Object.keys(env)) if (key.startsWith('SPRINTLANE_') || key.startsWith('BENCH_')) delete env[key];
  Object.assign(env, {
    PORT: String(o.port),
    HOST: '127.0.0.1',
    SPRINTLANE_DATA_DIR: o.dataDir,
    SPRINTLANE_ADMIN_TOKEN: token,
    LOG_LEVEL: 'warn',
    SPRINTLANE_RATE_LIMIT: 'true',
    SPRINTLANE_RATE_LIMIT_FREE_HOURLY: '1000000000',
    SPRINTLANE_RATE_LIMIT_FREE_BURST: '1000000000',
    NODE_ENV: 'production',
  });
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  Object.assign(env, SERVER_ENV);
  return env;
}

async function startServer(o: { dataDir: string; databaseUrl: string | undefined; logFile: string; cpuProfDir?: string }): Promise<ServerHandle & { coldStartMs: number }> {
  const port = await freePort();
  // What `npm start` runs (its prestart step builds dist/ once, in main() below).
  const args: string[] = [];
  if (o.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  args.push('dist/main.js');
  const spawned = spawnNode(args, { cwd: ROOT, env: serverEnv({ port, dataDir: o.dataDir, databaseUrl: o.databaseUrl }), logFile: o.logFile });
  const coldStartMs = await waitHealthy(spawned, port, START_TIMEOUT_MS);
  return { spawned, port, base: `http://127.0.0.1:${port}`, coldStartMs };
}

async function stopServer(s: ServerHandle): Promise<void> {
  const result = await stopChild(s.spawned.child, 30_000);
  if (result !== 0) throw new Error(`server did not exit cleanly on SIGTERM (${result}); log:\n${tail(s.spawned.logFile)}`);
}

async function api(s: ServerHandle, method: string, pathname: string, body?: unknown): Promise<any> {
  const res = await fetch(`${s.base}${pathname}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** A sequential request on a kept-alive connection (see keptAliveRequest). */
function quick(s: { port: number }, method: string, pathname: string, body?: unknown): Promise<any> {
  return keptAliveRequest(s.port, auth, method, pathname, body);
}

// ---------------------------------------------------------------------------------------------
// Results.

interface Row {
  scenario: string;
  connections: number;
  result: LoadResult;
  ratio: number;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function table(rows: Row[]): string {
  const header = ['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'ratio to bare', 'errors', 'server CPU', 'loader CPU'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.connections),
    fmt(r.result.rps, 0),
    fmt(r.result.p50, 0),
    fmt(r.result.p99, 0),
    r.scenario === 'bare node:http' ? '1.000' : `${fmt(r.ratio, 3)} (${fmt(r.ratio * 100, 1)}%)`,
    String(r.result.non2xx + r.result.errors),
    `${fmt(r.result.serverCpu * 100, 0)}%`,
    `${fmt(r.result.loaderCpu * 100, 0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

type Spec = Omit<Parameters<typeof runLoad>[0], 'connections' | 'durationSec'>;

async function warmUp(spec: Spec, connections: number): Promise<void> {
  if (WARMUP > 0) await runLoad({ ...spec, connections, durationSec: WARMUP });
}

interface Paired {
  result: LoadResult;
  bare: LoadResult[];
  /** Median of the runs' ratios to the bare run just before each. */
  ratio: number;
}

/** REPEAT runs of a scenario, each just after a run of the bare server at the same connection count. */
async function measurePaired(name: string, connections: number, spec: Spec, bare: Spec): Promise<Paired> {
  await warmUp(spec, connections);
  const runs: LoadResult[] = [];
  const bareRuns: LoadResult[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    if (interrupted) throw new Error('interrupted');
    const b = await runLoad({ ...bare, connections, durationSec: DURATION });
    const r = await runLoad({ ...spec, connections, durationSec: DURATION });
    ratios.push(r.rps / b.rps);
    log(`${name} @${connections}: ${r.rps.toFixed(0)} req/s (bare just before: ${b.rps.toFixed(0)}, ratio ${(100 * r.rps / b.rps).toFixed(2)}%), p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
    runs.push(r);
    bareRuns.push(b);
  }
  return { result: combine(runs), bare: bareRuns, ratio: median(ratios) };
}

interface Latency {
  p50: number;
  p99: number;
  runs: number;
}

/** `n` sequential calls after 5 unmeasured ones: milliseconds at the median and the 99th percentile. */
/** Runs `call(0)` … `call(n - 1)`, `width` at a time. */
async function inBatches(n: number, width: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await call(next++);
    }),
  );
}

async function latency(n: number, call: () => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 5; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    if (interrupted) throw new Error('interrupted');
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: median(times), p99: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]!, runs: n };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  mkdirSync(RESULTS_DIR, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sprintlane-bench-'));
  onCleanup('remove temp dir', () => rmSync(tmp, { recursive: true, force: true }));
  const dataDir = path.join(tmp, 'data');
  const logFile = path.join(tmp, 'server.log');
  log(`${KIND}: ${os.cpus().length} CPUs, node ${process.version}, ${DURATION} s per run (+${WARMUP} s warm-up) x${REPEAT}, temp dir ${tmp}`);

  // A fresh database on the PostgreSQL server named by DATABASE_URL (never that database itself).
  let benchUrl: string | undefined;
  let dbName: string | undefined;
  if (DATABASE_URL) {
    dbName = `sprintlane_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`create database ${dbName}`);
    } finally {
      await admin.end();
    }
    onCleanup(`drop database ${dbName}`, async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${dbName} with (force)`);
        log(`dropped database ${dbName}`);
      } finally {
        await c.end();
      }
    });
    const u = new URL(DATABASE_URL);
    u.pathname = `/${dbName}`;
    benchUrl = u.toString();
    log(`created database ${dbName}`);
  }

  // 1. The floor. It stays up (idle while the server is measured) and is measured just before
  // each run of the server (see measurePaired).
  const bare = await spawnWithPortLine(['--import', 'tsx', 'bench/bare-server.ts'], ROOT);
  const bareSpec: Spec = { url: `http://127.0.0.1:${bare.port}/`, serverPid: bare.pid };
  for (const c of CONNECTIONS) await warmUp(bareSpec, c);
  const loadBefore = os.loadavg();

  // 2. First start: bootstrap, workspace and projects through the API.
  const first = await startServer({ dataDir, databaseUrl: benchUrl, logFile });
  let server: ServerHandle = first;
  const firstStartMs = first.coldStartMs;
  log(`first start (empty database, migrations + bootstrap): healthy after ${firstStartMs.toFixed(0)} ms`);
  const self = await api(server, 'GET', '/v1/api-keys/self');
  const userId: string = self.data.user_id ?? self.data.user?.id;
  const ws = await api(server, 'POST', '/v1/workspaces', { name: 'Bench workspace', slug: `bench-${randomBytes(3).toString('hex')}` });
  const workspaceId: string = ws.data.id;
  const projectIds: string[] = [];
  for (let i = 1; i <= PROJECTS; i++) {
    const p = await api(server, 'POST', `/v1/workspaces/${workspaceId}/projects`, { name: `Bench project ${String(i).padStart(2, '0')}`, slug: `bench-${i}` });
    projectIds.push(p.data.id);
  }
  if (!userId) throw new Error(`could not read the user id from /v1/api-keys/self: ${JSON.stringify(self)}`);
  const workspaceSlug: string = ws.data.slug;
  const timeUserIds = [userId];
  if (TIME) {
    for (let i = 1; i < TIME_USERS; i++) {
      const email = `bench-user-${i}@example.test`;
      const u = await api(server, 'POST', '/v1/admin/users', { email });
      await api(server, 'POST', `/v1/workspaces/${workspaceId}/members`, { email, role: 'member' });
      timeUserIds.push(u.data.id);
    }
  }

  // 3. Seed tasks with SQL.
  const seedStart = performance.now();
  const seedOptions = { workspaceId, userId, projectIds, count: TASKS, analyze: ANALYZE && !TIME };
  const timeSeed = { workspaceId, projectIds, userIds: timeUserIds, tasksPerProject: TASKS / PROJECTS, count: TIME_ENTRIES, analyze: ANALYZE };
  let timeSeedMs = 0;
  let feedSeedMs = 0;
  const seed = async (exec: Exec) => {
    await seedTasks(exec, seedOptions);
    if (FEED) {
      const t0 = performance.now();
      await seedEvents(exec, { workspaceId, projectIds, count: FEED_EVENTS, analyze: ANALYZE && !TIME });
      feedSeedMs = performance.now() - t0;
      log(`seeded ${FEED_EVENTS} events in ${(feedSeedMs / 1000).toFixed(1)} s`);
    }
    if (!TIME) return;
    const t0 = performance.now();
    await seedTimeEntries(exec, timeSeed);
    timeSeedMs = performance.now() - t0;
    log(`seeded ${TIME_ENTRIES} time entries of ${timeUserIds.length} users in ${(timeSeedMs / 1000).toFixed(1)} s`);
  };
  if (KIND === 'pglite') {
    await stopServer(server); // the data dir is locked by the server
    const database = await openPglite({ dataDir: path.join(dataDir, 'pgdata') });
    try {
      await seed((text, params) => database.db.executeQuery(CompiledQuery.raw(text, params)));
    } finally {
      await database.close();
    }
  } else {
    const client = new pg.Client({ connectionString: benchUrl });
    await client.connect();
    try {
      await seed((text, params) => client.query(text, params));
    } finally {
      await client.end();
    }
    await stopServer(server);
  }
  const seedMs = performance.now() - seedStart;
  log(`seeded ${TASKS} tasks in ${PROJECTS} projects in ${(seedMs / 1000).toFixed(1)} s${ANALYZE ? ' (with analyze)' : ''}`);

  // 4. Cold starts on the existing data; the last one is the server that gets measured.
  const coldStarts: number[] = [];
  for (let i = 0; i < COLD_STARTS; i++) {
    const last = i === COLD_STARTS - 1;
    const s = await startServer({ dataDir, databaseUrl: benchUrl, logFile, cpuProfDir: last && CPU_PROF ? RESULTS_DIR : undefined });
    coldStarts.push(s.coldStartMs);
    log(`cold start ${i + 1}/${COLD_STARTS}: healthy after ${s.coldStartMs.toFixed(0)} ms`);
    if (last) server = s;
    else await stopServer(s);
  }
  const coldStartMs = median(coldStarts);
  const cpuAtStart = cpuSecondsOf(server.spawned.pid);

  // Sanity: the seeded data answers as expected before anything is timed.
  const one = await api(server, 'GET', `/v1/tasks/${seededTaskId(TASKS - 1)}`);
  if (one.data.id !== seededTaskId(TASKS - 1)) throw new Error('seeded task lookup returned another task');
  const listPath = (pid: string) => `/v1/projects/${pid}/tasks?status=todo&priority=high&per_page=25`;
  const sample = await api(server, 'GET', listPath(projectIds[0]!));
  if (!(sample.meta.total > 0) || sample.data.length !== Math.min(25, sample.meta.total)) throw new Error(`filtered list returned ${sample.data.length} of ${sample.meta.total}`);
  log(`filtered list: ${sample.meta.total} matching tasks in the first project`);

  // 5. The scenarios.
  const ids = Array.from({ length: TASKS }, (_, i) => seededTaskId(i));
  let listTurn = 0;
  let createTurn = 0;
  const scenarios: Array<{ name: string; key: string; spec: Omit<Parameters<typeof runLoad>[0], 'connections' | 'durationSec'> }> = [
    {
      name: 'GET /v1/tasks/:id',
      key: 'get_task',
      spec: {
        url: server.base,
        headers: auth,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/tasks/${ids[Math.floor(Math.random() * ids.length)]}` }) }],
      },
    },
    {
      name: 'GET filtered list (25)',
      key: 'list_tasks',
      spec: {
        url: server.base,
        headers: auth,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: listPath(projectIds[listTurn++ % projectIds.length]!) }) }],
      },
    },
    {
      name: 'POST create task',
      key: 'create_task',
      spec: {
        url: server.base,
        headers: { ...auth, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const n = createTurn++;
              return {
                ...req,
                path: `/v1/projects/${projectIds[n % projectIds.length]}/tasks`,
                body: JSON.stringify({ title: `Bench-created task ${n}`, priority: 'high', labels: ['bench'], estimated_minutes: 30 }),
              };
            },
          },
        ],
      },
    },
  ];

  const rows: Row[] = [];
  const barePasses = new Map<number, LoadResult[]>(CONNECTIONS.map((c) => [c, []]));
  const results: Record<string, Record<number, Paired>> = {};
  for (const sc of scenarios) {
    if (ONLY && !ONLY.has(sc.key)) continue;
    results[sc.key] = {};
    for (const c of CONNECTIONS) {
      const r = await measurePaired(sc.name, c, { ...sc.spec, serverPid: server.spawned.pid }, bareSpec);
      results[sc.key]![c] = r;
      barePasses.get(c)!.push(...r.bare);
      rows.push({ scenario: sc.name, connections: c, result: r.result, ratio: r.ratio });
    }
  }

  // 5b. Time tracking: sequential latencies (one client, as a dashboard or a script is).
  const timeResults: Record<string, Latency> = {};
  if (TIME) {
    const today = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
    let turn = 0;
    const scope = () => `company_slug=${workspaceSlug}&project_slug=bench-${1 + (turn++ % PROJECTS)}&start=${start}&end=${today}&tz=Europe/Berlin`;
    const reports: Array<[string, () => string]> = [
      ['analytics', () => `/time-trackings/analytics?${scope()}`],
      ['team', () => `/time-trackings/team?${scope()}`],
      ['reports by day', () => `/time-trackings/reports?${scope()}&group_by=day`],
      ['timeline', () => `/time-trackings/timeline?${scope()}`],
    ];
    // The floor, for reading absolute budgets on a machine whose speed drifts: the bare server's
    // fixed answer, one request at a time over the same kind of connection.
    timeResults['bare node:http (floor)'] = await latency(TIME_REQUESTS * 5, () => quick({ port: bare.port }, 'GET', '/'));
    log(`bare node:http, sequential: p50 ${fmt(timeResults['bare node:http (floor)']!.p50, 2)} ms`);
    if (!ONLY || ONLY.has('time_reports')) {
      for (const [name, url] of reports) {
        const sample = await api(server, 'GET', url());
        if (name === 'analytics' && !(sample.data.total_seconds > 0)) throw new Error(`analytics found no time: ${JSON.stringify(sample).slice(0, 300)}`);
        timeResults[name] = await latency(TIME_REQUESTS, () => quick(server, 'GET', url()));
        log(`${name} (90 days): p50 ${fmt(timeResults[name]!.p50, 1)} ms, p99 ${fmt(timeResults[name]!.p99, 1)} ms (${TIME_REQUESTS} requests)`);
      }
    }
    if (!ONLY || ONLY.has('timer')) {
      let project = 0;
      const task = (n: number) => seededTaskId(n);
      const uuids: string[] = [];
      for (let i = 0; i < PROJECTS; i++) uuids.push((await api(server, 'GET', `/v1/tasks/${task(i)}`)).data.uuid);
      timeResults['timer start + stop'] = await latency(TIMER_PAIRS, async () => {
        const i = project++ % PROJECTS;
        const slugs = { company_slug: workspaceSlug, project_slug: `bench-${i + 1}` };
        const started = await quick(server, 'POST', '/time-trackings', { ...slugs, task_uuid: uuids[i] });
        await quick(server, 'PUT', `/time-trackings/${started.data.id}`, slugs);
      });
      log(`timer start + stop: p50 ${fmt(timeResults['timer start + stop']!.p50, 1)} ms, p99 ${fmt(timeResults['timer start + stop']!.p99, 1)} ms (${TIMER_PAIRS} pairs)`);
    }
  }

  // 5c. The change feed: pages of 1,000 from random places in the workspace's events.
  let feedResult: Latency | undefined;
  if (FEED) {
    const first = await api(server, 'GET', '/v1/events?limit=1000');
    if (first.data.length !== 1000) throw new Error(`the feed's first page held ${first.data.length} events`);
    feedResult = await latency(FEED_REQUESTS, () => quick(server, 'GET', `/v1/events?limit=1000&after=${encodeCursor(Math.floor(Math.random() * (FEED_EVENTS - 1000)), '*')}`));
    log(`change feed, 1,000 events a page: p50 ${fmt(feedResult.p50, 1)} ms, p99 ${fmt(feedResult.p99, 1)} ms (${FEED_REQUESTS} pages)`);
  }

  // 5d. A sprint report over a 500-task sprint with a history.
  let sprintReportResult: Latency | undefined;
  if (SPRINT_REPORT) {
    const t0 = performance.now();
    const pid = projectIds[0]!;
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const sprint = (await api(server, 'POST', `/v1/projects/${pid}/sprints`, { name: 'Bench sprint', start_date: day(0), end_date: day(13) })).data;
    const planned: string[] = [];
    const make = async (n: number) => (await api(server, 'POST', `/v1/projects/${pid}/tasks`, { title: `Sprint task ${n}`, estimated_minutes: 30 + (n % 8) * 30, sprint_id: sprint.id })).data.id as string;
    await inBatches(500, 8, async (i) => {
      planned[i] = await make(i);
    });
    await api(server, 'POST', `/v1/sprints/${sprint.id}/start`);
    await inBatches(300, 8, (i) => api(server, 'PATCH', `/v1/tasks/${planned[i]}`, { status: 'in_progress' }));
    await inBatches(250, 8, (i) => api(server, 'PATCH', `/v1/tasks/${planned[i]}`, { status: 'done' }));
    await inBatches(100, 8, (i) => api(server, 'PATCH', `/v1/tasks/${planned[300 + i]}`, { estimated_minutes: 45 }));
    await inBatches(40, 8, (i) => make(500 + i));
    await inBatches(20, 8, (i) => api(server, 'PATCH', `/v1/tasks/${planned[480 + i]}`, { sprint_id: null }));
    log(`sprint of 500 tasks with its history made through the API in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const check = (await api(server, 'GET', `/v1/sprints/${sprint.id}/report`)).data;
    if (check.committed.tasks !== 500 || check.scope_added.tasks !== 40 || check.scope_removed.tasks !== 20 || check.completed.tasks !== 250) {
      throw new Error(`the sprint report did not add up: ${JSON.stringify({ committed: check.committed, added: check.scope_added.tasks, removed: check.scope_removed.tasks, completed: check.completed })}`);
    }
    sprintReportResult = await latency(AGILE_REQUESTS, () => quick(server, 'GET', `/v1/sprints/${sprint.id}/report`));
    log(`sprint report, 500 tasks: p50 ${fmt(sprintReportResult.p50, 1)} ms, p99 ${fmt(sprintReportResult.p99, 1)} ms (${AGILE_REQUESTS} requests)`);
  }

  // 5e. Batch updates of 100 tasks.
  let batchUpdateResult: Latency | undefined;
  if (BATCH_UPDATE) {
    let round = 0;
    const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
    const batch = () => {
      const r = round++;
      const tasks = Array.from({ length: 100 }, (_, i) => ({ id: seededTaskId((r * 100 + i) % TASKS), title: `Batch ${r} item ${i}`, priority: PRIORITIES[r % 4] }));
      return { tasks };
    };
    const sample = await api(server, 'PATCH', '/v1/tasks/batch', batch());
    if (sample.meta.changed !== 100) throw new Error(`a batch update changed ${sample.meta.changed} of 100 tasks`);
    batchUpdateResult = await latency(AGILE_REQUESTS, () => quick(server, 'PATCH', '/v1/tasks/batch', batch()));
    log(`batch update of 100 tasks: p50 ${fmt(batchUpdateResult.p50, 1)} ms, p99 ${fmt(batchUpdateResult.p99, 1)} ms (${AGILE_REQUESTS} requests)`);
  }

  closeKeptAlive();

  // 6. Peak memory of the measured server, read before it stops.
  const serverMem = memoryOf(server.spawned.pid);
  const serverCpuTotal = cpuSecondsOf(server.spawned.pid) - cpuAtStart;
  await stopServer(server);
  const loadAfter = os.loadavg();
  const bareMem = memoryOf(bare.pid);
  await stopChild(bare.child);
  const bareResults = new Map<number, LoadResult>(CONNECTIONS.filter((c) => barePasses.get(c)!.length > 0).map((c) => [c, combine(barePasses.get(c)!)]));
  rows.unshift(...[...bareResults].map(([c, result]) => ({ scenario: 'bare node:http', connections: c, result, ratio: 1 })));

  // 7. Report.
  const at32 = (key: string) => results[key]?.[32]?.result;
  const ratio32 = (key: string) => results[key]?.[32]?.ratio ?? NaN;
  const NOT_MEASURED = 'not measured (BENCH_ONLY)';
  const verdict = (key: string, budget: string, measured: () => string, pass: () => boolean) =>
    at32(key) ? { budget, measured: measured(), pass: pass() } : { budget, measured: NOT_MEASURED, pass: false, skipped: true };
  const verdicts: Array<{ budget: string; measured: string; pass: boolean; skipped?: boolean }> = [
    verdict(
      'get_task',
      `GET /v1/tasks/:id @32 >= ${BUDGETS.getRatio * 100}% of bare${BUDGETS.getP99Ms ? ` and p99 < ${BUDGETS.getP99Ms} ms` : ''}`,
      () => `${fmt(ratio32('get_task') * 100, 2)}%, p99 ${fmt(at32('get_task')!.p99, 2)} ms`,
      () => ratio32('get_task') >= BUDGETS.getRatio && (BUDGETS.getP99Ms === null || at32('get_task')!.p99 < BUDGETS.getP99Ms),
    ),
    verdict('list_tasks', `filtered list @32 >= ${BUDGETS.listRatio * 100}% of bare`, () => `${fmt(ratio32('list_tasks') * 100, 2)}%`, () => ratio32('list_tasks') >= BUDGETS.listRatio),
    verdict('create_task', `task creation @32 >= ${BUDGETS.createRps} req/s`, () => `${fmt(at32('create_task')!.rps, 0)} req/s`, () => at32('create_task')!.rps >= BUDGETS.createRps),
    { budget: `cold start to healthy < ${COLD_START_BUDGET_MS} ms (median of ${coldStarts.length})`, measured: `${fmt(coldStartMs, 0)} ms`, pass: coldStartMs < COLD_START_BUDGET_MS },
  ];
  const timeVerdicts: typeof verdicts = [];
  if (TIME) {
    for (const name of ['analytics', 'team', 'reports by day', 'timeline']) {
      const r = timeResults[name];
      timeVerdicts.push(
        r
          ? { budget: `${name}, 90 days of ${TIME_ENTRIES} entries: p50 < ${TIME_BUDGETS.reportP50Ms} ms`, measured: `p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`, pass: r.p50 < TIME_BUDGETS.reportP50Ms }
          : { budget: `${name}: p50 < ${TIME_BUDGETS.reportP50Ms} ms`, measured: NOT_MEASURED, pass: false, skipped: true },
      );
    }
    const pair = timeResults['timer start + stop'];
    timeVerdicts.push(
      pair
        ? { budget: `timer start + stop pair: p50 < ${TIME_BUDGETS.timerPairP50Ms} ms`, measured: `p50 ${fmt(pair.p50, 1)} ms, p99 ${fmt(pair.p99, 1)} ms`, pass: pair.p50 < TIME_BUDGETS.timerPairP50Ms }
        : { budget: `timer start + stop pair: p50 < ${TIME_BUDGETS.timerPairP50Ms} ms`, measured: NOT_MEASURED, pass: false, skipped: true },
    );
  }
  const feedVerdicts: typeof verdicts = [];
  if (FEED) {
    const budget = `change feed, 1,000 events a page with ${FEED_EVENTS} stored: p50 < ${FEED_PAGE_P50_MS} ms`;
    feedVerdicts.push(feedResult ? { budget, measured: `p50 ${fmt(feedResult.p50, 1)} ms, p99 ${fmt(feedResult.p99, 1)} ms`, pass: feedResult.p50 < FEED_PAGE_P50_MS } : { budget, measured: NOT_MEASURED, pass: false, skipped: true });
  }
  const agileVerdicts: typeof verdicts = [];
  if (SPRINT_REPORT) {
    const budget = `sprint report over a 500-task sprint: p50 < ${SPRINT_REPORT_P50_MS} ms`;
    agileVerdicts.push(
      sprintReportResult
        ? { budget, measured: `p50 ${fmt(sprintReportResult.p50, 1)} ms, p99 ${fmt(sprintReportResult.p99, 1)} ms`, pass: sprintReportResult.p50 < SPRINT_REPORT_P50_MS }
        : { budget, measured: NOT_MEASURED, pass: false, skipped: true },
    );
  }
  if (BATCH_UPDATE) {
    const budget = `batch update of 100 tasks${KIND === 'pglite' ? '' : ' (the budget is the embedded database\'s)'}: p50 < ${BATCH_UPDATE_P50_MS} ms`;
    agileVerdicts.push(
      batchUpdateResult
        ? { budget, measured: `p50 ${fmt(batchUpdateResult.p50, 1)} ms, p99 ${fmt(batchUpdateResult.p99, 1)} ms`, pass: batchUpdateResult.p50 < BATCH_UPDATE_P50_MS }
        : { budget, measured: NOT_MEASURED, pass: false, skipped: true },
    );
  }
  const errorCount = rows.reduce((s, r) => s + r.result.non2xx + r.result.errors, 0);

  const out: string[] = [];
  out.push('');
  out.push(`Sprintlane benchmark: ${KIND === 'pglite' ? 'embedded database (PGlite)' : 'PostgreSQL'}, ${TASKS} tasks in ${PROJECTS} projects, ${os.cpus().length} CPUs, node ${process.version}`);
  out.push(`${DURATION} s per run after ${WARMUP} s warm-up, median of ${REPEAT} runs; each run follows a run of the bare node:http server at the same connection count`);
  out.push(`(ratio to bare = median of the runs' ratios to the bare run before each; the bare rows give the median of all bare runs: ${[...bareResults].map(([c, r]) => `@${c} ${fmt(r.rps, 0)} req/s (range ${fmt(Math.min(...barePasses.get(c)!.map((x) => x.rps)), 0)}–${fmt(Math.max(...barePasses.get(c)!.map((x) => x.rps)), 0)})`).join(', ')}; latency resolution 1 ms)`);
  out.push(`load average (1 min) ${fmt(loadBefore[0]!, 1)} after the bare server's warm-up, ${fmt(loadAfter[0]!, 1)} at the end`);
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push(`cold start to healthy (existing data): ${coldStarts.map((x) => fmt(x, 0)).join(', ')} ms -> median ${fmt(coldStartMs, 0)} ms`);
  out.push(`server peak RSS (VmHWM): ${fmt(serverMem?.peakRssMb ?? NaN, 1)} MiB (current ${fmt(serverMem?.rssMb ?? NaN, 1)} MiB); bare server peak RSS ${fmt(bareMem?.peakRssMb ?? NaN, 1)} MiB`);
  out.push(`seeding: ${fmt(seedMs / 1000, 1)} s; server CPU during the measured phase: ${fmt(serverCpuTotal, 1)} s`);
  out.push('');
  out.push('Budgets (issue 2):');
  for (const v of verdicts) out.push(`  ${v.skipped ? 'SKIP' : v.pass ? 'PASS' : 'FAIL'}  ${v.budget}: ${v.measured}`);
  if (TIME) {
    out.push('');
    out.push(`Budgets (issue 3; ${TIME_ENTRIES} time entries of ${timeUserIds.length} users in ${PROJECTS} projects, seeded in ${fmt(timeSeedMs / 1000, 1)} s; sequential requests):`);
    for (const v of timeVerdicts) out.push(`  ${v.skipped ? 'SKIP' : v.pass ? 'PASS' : 'FAIL'}  ${v.budget}: ${v.measured}`);
    const floor = timeResults['bare node:http (floor)'];
    if (floor) out.push(`  (floor: a sequential request to the bare node:http server, p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms)`);
  }
  if (FEED) {
    out.push('');
    out.push(`Budgets (issue 4; ${FEED_EVENTS} events, seeded in ${fmt(feedSeedMs / 1000, 1)} s; sequential requests):`);
    for (const v of feedVerdicts) out.push(`  ${v.skipped ? 'SKIP' : v.pass ? 'PASS' : 'FAIL'}  ${v.budget}: ${v.measured}`);
  }
  if (agileVerdicts.length) {
    out.push('');
    out.push('Budgets (issue 4, agile work; sequential requests):');
    for (const v of agileVerdicts) out.push(`  ${v.skipped ? 'SKIP' : v.pass ? 'PASS' : 'FAIL'}  ${v.budget}: ${v.measured}`);
  }
  if (errorCount > 0) {
    out.push('');
    out.push(`ERROR: ${errorCount} non-2xx responses or connection errors:`);
    for (const r of rows) {
      const bad = r.result.non2xx + r.result.errors;
      if (bad) out.push(`  ${r.scenario} @${r.connections}: status codes ${JSON.stringify(r.result.statusCodes)}, connection errors ${r.result.errors} (of which timeouts ${r.result.timeouts})`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');

  const json = {
    kind: KIND,
    timestamp: startedAt.toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemMb: Math.round(os.totalmem() / 2 ** 20), loadavg: os.loadavg(), platform: `${os.platform()} ${os.release()}` },
    node: process.version,
    settings: { serverEnv: SERVER_ENV, durationSec: DURATION, warmupSec: WARMUP, repeat: REPEAT, tasks: TASKS, projects: PROJECTS, analyze: ANALYZE, connections: CONNECTIONS, cpuProf: CPU_PROF },
    bare: { ...Object.fromEntries([...bareResults].map(([c, r]) => [c, { ...r, runs: barePasses.get(c) }])), peakRssMb: bareMem?.peakRssMb },
    loadavg: { afterBareWarmUp: loadBefore, atEnd: loadAfter },
    scenarios: Object.fromEntries(
      Object.entries(results).map(([key, byConn]) => [
        key,
        Object.fromEntries(Object.entries(byConn).map(([c, r]) => [c, { ...r.result, ratioToBare: r.ratio, bareRuns: r.bare.map((b) => b.rps) }])),
      ]),
    ),
    coldStartMs: { median: coldStartMs, runs: coldStarts, firstStartEmptyDatabase: firstStartMs },
    server: { peakRssMb: serverMem?.peakRssMb, rssMbAtEnd: serverMem?.rssMb, cpuSecondsMeasuredPhase: serverCpuTotal },
    seedMs,
    budgets: verdicts,
    agile: agileVerdicts.length ? { sprintReportMs: sprintReportResult, batchUpdateMs: batchUpdateResult, budgets: agileVerdicts } : undefined,
    feed: FEED ? { events: FEED_EVENTS, seedMs: feedSeedMs, latencyMs: feedResult, budgets: feedVerdicts } : undefined,
    time: TIME ? { entries: TIME_ENTRIES, users: timeUserIds.length, seedMs: timeSeedMs, latencyMs: timeResults, budgets: timeVerdicts } : undefined,
    errors: errorCount,
  };
  const file = path.join(RESULTS_DIR, `bench-${KIND}-${stamp}.json`);
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  log(`wrote ${path.relative(ROOT, file)}`);

  if (errorCount > 0) return 1;
  if (STRICT && [...verdicts, ...timeVerdicts, ...feedVerdicts, ...agileVerdicts].some((v) => !v.pass && !v.skipped)) return 3;
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  code = 1;
} finally {
  await runCleanups();
}
process.exit(interrupted ? 130 : code);

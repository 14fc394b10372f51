// `npm run bench:webhooks`: the webhook budgets of issue 6, on the embedded database (or
// DATABASE_URL=postgres://… for a fresh database on that server, dropped at the end).
//
// 1. Enqueueing: the p50 of a sequential POST /v1/projects/:id/tasks while no webhook watches the
//    project, and while one does (and its deliveries are being sent), alternated over
//    BENCH_WEBHOOK_ROUNDS rounds of BENCH_WEBHOOK_WRITES writes; the added time is the median of the
//    rounds' differences. Budget: under 1 ms.
// 2. Sustained delivery: BENCH_WEBHOOK_EVENTS task.created events (default 100000, written in
//    batches of 100) to a receiver on loopback that answers 200 at once; the rate is the events
//    delivered over the time from the first delivery to the last. The server's RSS is sampled each
//    second: its growth, once writing has ended, is the median of the last tenth of the samples over
//    the median of the first (the series is printed too).
//    Budgets: at least 500 events/s, no growth in memory (under 10%, the noise of a garbage collector).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { median } from './load.ts';
import { freePort, keptAliveRequest, memoryOf, onCleanup, runCleanups, spawnNode, stopChild, tail, waitHealthy } from './proc.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 6);
const WRITES = Number(process.env.BENCH_WEBHOOK_WRITES ?? 200);
const BUDGET = { enqueueMs: 1, eventsPerSecond: 500, memoryGrowth: 0.1 };
const token = `bench_${randomBytes(24).toString('hex')}`;

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const call = (port: number, method: string, pathname: string, body?: unknown) => keptAliveRequest(port, { authorization: `Bearer ${token}` }, method, pathname, body);

async function main(): Promise<number> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const work = mkdtempSync(path.join(os.tmpdir(), 'sprintlane-bench-webhooks-'));
  onCleanup('work dir', () => rmSync(work, { recursive: true, force: true }));

  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    const name = `sprintlane_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    onCleanup('bench database', async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    });
  }

  // The receiver: answers every delivery 200 at once, and notes when each arrived.
  let delivered = 0;
  let firstAt = 0;
  let lastAt = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered += 1;
      lastAt = performance.now();
      if (firstAt === 0) firstAt = lastAt;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  onCleanup('receiver', () => new Promise<void>((r) => receiver.close(() => r())));
  const receiverPort = (receiver.address() as { port: number }).port;

  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('SPRINTLANE_') || key.startsWith('BENCH_') || key === 'DATABASE_URL') delete env[key];
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    SPRINTLANE_DATA_DIR: path.join(work, 'data'),
    SPRINTLANE_ADMIN_TOKEN: token,
    SPRINTLANE_RATE_LIMIT: 'false',
    SPRINTLANE_WEBHOOK_ALLOW_PRIVATE: 'true',
    SPRINTLANE_WEBHOOK_ALLOW_HTTP: 'true',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const spawned = spawnNode(['dist/main.js'], { cwd: ROOT, env, logFile: path.join(work, 'server.log') });
  onCleanup('server', async () => {
    await stopChild(spawned.child, 30_000);
  });
  await waitHealthy(spawned, port, 300_000);
  const workspaceId: string = (await call(port, 'GET', '/v1/workspaces')).data[0].id;
  const projectId: string = (await call(port, 'POST', `/v1/workspaces/${workspaceId}/projects`, { name: 'Webhook bench' })).data.id;
  const hook = (await call(port, 'POST', '/v1/webhooks', { url: `http://127.0.0.1:${receiverPort}/hook`, events: ['task.created'], project_id: projectId })).data;

  // 1. What an event's enqueueing adds to the write that causes it.
  const writeP50 = async (n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await call(port, 'POST', `/v1/projects/${projectId}/tasks`, { title: `Enqueue ${i}` });
      times.push(performance.now() - started);
    }
    return median(times);
  };
  await writeP50(50);
  const rounds: Array<{ without: number; with: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    await call(port, 'PATCH', `/v1/webhooks/${hook.id}`, { active: false });
    const without = await writeP50(WRITES);
    await call(port, 'PATCH', `/v1/webhooks/${hook.id}`, { active: true });
    const withHook = await writeP50(WRITES);
    rounds.push({ without, with: withHook });
    log(`enqueue round ${r + 1}: p50 ${without.toFixed(2)} ms without a webhook, ${withHook.toFixed(2)} ms with one`);
  }
  const addedMs = median(rounds.map((r) => r.with - r.without));

  // 2. Sustained delivery, and the server's memory meanwhile.
  const waitQuiet = async () => {
    let last = -1;
    while (last !== delivered) {
      last = delivered;
      await new Promise((r) => setTimeout(r, 1500));
    }
  };
  await waitQuiet();
  delivered = 0;
  firstAt = 0;
  // The server's RSS each second, with how far writing and delivering had got.
  const samples: Array<{ s: number; rssMb: number; delivered: number; writing: boolean }> = [];
  let writing = true;
  const began = performance.now();
  const sampler = setInterval(() => {
    const m = memoryOf(spawned.pid);
    if (m) samples.push({ s: Math.round((performance.now() - began) / 1000), rssMb: Math.round(m.rssMb), delivered, writing });
  }, 1000);
  for (let written = 0; written < EVENTS; written += 100) {
    await call(port, 'POST', `/v1/projects/${projectId}/tasks/batch`, { tasks: Array.from({ length: Math.min(100, EVENTS - written) }, (_, i) => ({ title: `Sustained ${written + i}` })) });
    if (written % 10_000 === 0) log(`written ${written}, delivered ${delivered}`);
  }
  writing = false;
  const deadline = Date.now() + 600_000;
  while (delivered < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  clearInterval(sampler);
  const seconds = (lastAt - firstAt) / 1000;
  const rate = delivered / seconds;
  // Memory is judged while only delivery runs (writing 100,000 tasks grows the database's own
  // cache, which is not the worker's): the last tenth of those samples against the first.
  const delivering = samples.filter((x) => !x.writing).map((x) => x.rssMb);
  const tenth = Math.max(1, Math.floor(delivering.length / 10));
  const growth = median(delivering.slice(-tenth)) / median(delivering.slice(0, tenth)) - 1;
  const series = samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 20)) === 0 || i === samples.length - 1);

  const result = {
    database: databaseUrl ? 'postgres' : 'pglite',
    enqueue: { rounds, added_p50_ms: Number(addedMs.toFixed(3)), budget_ms: BUDGET.enqueueMs, pass: addedMs < BUDGET.enqueueMs },
    delivery: {
      events: EVENTS,
      delivered,
      seconds: Number(seconds.toFixed(1)),
      events_per_second: Math.round(rate),
      budget: BUDGET.eventsPerSecond,
      pass: delivered === EVENTS && rate >= BUDGET.eventsPerSecond,
    },
    memory: {
      rss_first_tenth_mb: median(delivering.slice(0, tenth)),
      rss_last_tenth_mb: median(delivering.slice(-tenth)),
      peak_mb: Math.max(...samples.map((x) => x.rssMb)),
      growth: Number(growth.toFixed(3)),
      budget: BUDGET.memoryGrowth,
      pass: growth < BUDGET.memoryGrowth,
      series,
    },
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const file = path.join(ROOT, 'bench', 'results', `webhooks-${result.database}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (delivered < EVENTS) log(`only ${delivered} of ${EVENTS} delivered; server log:\n${tail(spawned.logFile)}`);
  return result.enqueue.pass && result.delivery.pass && result.memory.pass ? 0 : 3;
}

main()
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    log(String((err as Error).stack ?? err));
    await runCleanups();
    process.exit(1);
  });

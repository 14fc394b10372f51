// Real server processes for the tests that need them (locking, signals, durability, start-up):
// `node --import tsx src/main.ts` (or `npm start`) with its own environment and a fresh temporary
// data directory. Every process is started as its own process group and tracked, so that
// `killAllServers()` (called from afterEach/afterAll) and a last-resort exit hook leave nothing running.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How long a start may take on a loaded two-core machine (a fresh data dir runs initdb). */
export const START_TIMEOUT_MS = 90_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface SpawnOptions {
  /** SPRINTLANE_DATA_DIR; a fresh temporary directory when omitted. */
  dataDir?: string;
  /** Extra environment (an `undefined` value removes the variable). */
  env?: Record<string, string | undefined>;
  /** Start through `npm start` instead of `node --import tsx src/main.ts`. */
  viaNpm?: boolean;
}

export interface ServerProcess {
  child: ChildProcess;
  /** The pid of the spawned process (npm's when started via npm, otherwise the server's). */
  pid: number;
  dataDir: string;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | undefined;
  /** Resolves with the URL of the 'Sprintlane is listening' log line (rejects if the process exits first). */
  listening: Promise<string>;
  /** The server's base URL, once listening. */
  url: string;
  /** The server's own pid as it logs it (differs from `pid` under npm). */
  serverPid: number | undefined;
  /** Sends a signal to the whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGKILL to the whole group; resolves with the exit. */
  kill(): Promise<Exit>;
  request<T = any>(method: string, urlPath: string, opts?: { key?: string; body?: unknown }): Promise<HttpResponse<T>>;
}

const live = new Set<ServerProcess>();
const dirs = new Set<string>();

/** A new empty temporary directory, removed by `removeTempDirs()`. */
export function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sprintlane-proc-'));
  dirs.add(dir);
  return dir;
}

/** The environment an operator would give: ours, minus anything that would change the server's behaviour. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(SPRINTLANE_|VITEST|TLS_)/.test(k)) continue;
    if (['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'NODE_OPTIONS', 'NODE_ENV', 'LOG_LEVEL'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

function groupKill(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig); // the process group: npm and the node it started
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** Starts a server process and returns at once; await `listening` or use `startServer`. */
export function spawnServer(opts: SpawnOptions = {}): ServerProcess {
  const dataDir = opts.dataDir ?? freshDataDir();
  const env: Record<string, string> = { ...baseEnv(), HOST: '127.0.0.1', PORT: '0', SPRINTLANE_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const [cmd, args] = opts.viaNpm ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'src/main.ts']];
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', () => {
      exit = { code: null, signal: null };
      resolve(exit);
    });
  });

  let onLine: ((line: string) => void) | undefined;
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    out += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      onLine?.(line);
    }
  });
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });

  const proc: ServerProcess = {
    child,
    pid: child.pid ?? -1,
    dataDir,
    stdout: () => out,
    stderr: () => err,
    exited,
    exit: () => exit,
    listening: undefined as unknown as Promise<string>,
    url: '',
    serverPid: undefined,
    signal: (sig) => groupKill(child, sig),
    async stop(graceMs = 25_000) {
      groupKill(child, 'SIGTERM');
      const timer = setTimeout(() => groupKill(child, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      groupKill(child, 'SIGKILL');
      return exited;
    },
    async request(method, urlPath, o = {}) {
      if (!proc.url) throw new Error('the server is not listening');
      const headers: Record<string, string> = {};
      if (o.key) headers.authorization = `Bearer ${o.key}`;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(proc.url + urlPath, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
      const text = await res.text();
      let body: any = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, body, text };
    },
  };

  proc.listening = new Promise<string>((resolve, reject) => {
    onLine = (line) => {
      if (!line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; pid?: number };
        if (entry.msg === 'Sprintlane is listening' && entry.url) {
          proc.url = entry.url;
          proc.serverPid = entry.pid;
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    };
    void exited.then((e) => reject(new Error(`server exited (${JSON.stringify(e)}) before listening\n--- stdout\n${out}\n--- stderr\n${err}`)));
  });
  proc.listening.catch(() => {}); // callers that do not wait for it must not cause an unhandled rejection

  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Polls GET /healthz until it answers 200. */
export async function waitHealthy(proc: ServerProcess, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exit()) throw new Error(`server exited ${JSON.stringify(proc.exit())}\n${proc.stderr()}`);
    try {
      const res = await fetch(proc.url + '/healthz');
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.url}/healthz never answered 200 (${last})`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Starts a server and waits until it logs its URL and /healthz answers 200. */
export async function startServer(opts: SpawnOptions = {}): Promise<ServerProcess> {
  const proc = spawnServer(opts);
  try {
    await withTimeout(proc.listening, START_TIMEOUT_MS, 'server start');
    await waitHealthy(proc);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

/** SIGKILLs every server process (group) still running and waits for them to go. */
export async function killAllServers(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.signal('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}

export function removeTempDirs(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

// Last resort: if the test process goes away without its hooks running, take the servers with it.
process.once('exit', () => {
  for (const p of live) groupKill(p.child, 'SIGKILL');
});

/** Bootstrap keys printed on stdout. */
export function printedKeys(stdout: string): string[] {
  return stdout.match(/\bslk_[A-Za-z0-9_]+/g) ?? [];
}

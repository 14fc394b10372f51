// Child processes for the benchmark: spawning, waiting for health, graceful stop, /proc readings,
// and one registry of everything to undo so that failures and Ctrl-C leave nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const children = new Set<ChildProcess>();
const cleanups: Array<{ name: string; fn: () => Promise<void> | void }> = [];

/** Registers an undo step; they run newest first, once, on success, failure or a signal. */
export function onCleanup(name: string, fn: () => Promise<void> | void): void {
  cleanups.push({ name, fn });
}

let cleaning: Promise<void> | undefined;
/** Runs once; every caller (the normal path, a failure, a signal) waits for the same run. */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of [...children]) await stopChild(child, 5_000).catch(() => {});
    for (const { name, fn } of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`bench: cleanup "${name}" failed: ${(err as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

// Last resort if the process exits without the async cleanup: never leave a server running.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  logFile: string;
}

/** Spawns `node <args>` with stdout/stderr appended to logFile. The pid is the node process itself. */
export function spawnNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Spawned {
  const fd = openSync(options.logFile, 'a');
  const startedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn node ${args.join(' ')}`);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, pid: child.pid, startedAt, logFile: options.logFile };
}

/** Spawns `node <args>` with stdout piped, and resolves with the port it prints as `PORT <n>`. */
export function spawnWithPortLine(args: string[], cwd: string): Promise<{ child: ChildProcess; pid: number; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    child.once('exit', (code) => {
      children.delete(child);
      reject(new Error(`node ${args.join(' ')} exited early with ${code}`));
    });
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buf += chunk;
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ child, pid: child.pid!, port: Number(m[1]) });
    });
  });
}

export function httpStatus(port: number, path: string, timeoutMs = 1_000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

/** Polls /healthz every 5 ms; resolves with milliseconds from spawn to the first 200. */
export async function waitHealthy(s: Spawned, port: number, timeoutMs = 60_000): Promise<number> {
  const deadline = s.startedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) {
      throw new Error(`server exited (${s.child.exitCode ?? s.child.signalCode}) before becoming healthy; log: ${s.logFile}\n${tail(s.logFile)}`);
    }
    if ((await httpStatus(port, '/healthz', 500)) === 200) return performance.now() - s.startedAt;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms; log: ${s.logFile}\n${tail(s.logFile)}`);
}

/** SIGTERM, wait for exit (SIGKILL after timeoutMs); resolves with the exit code or signal. */
export async function stopChild(child: ChildProcess, timeoutMs = 30_000): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Peak and current resident set size in MiB from /proc/<pid>/status (Linux). */
export function memoryOf(pid: number): { peakRssMb: number; rssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds consumed so far by a process (Linux), or NaN. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * One request on a kept-alive node:http connection, for sequential latency measurements: fetch
 * added about a millisecond per request of its own here, which budgets of a few milliseconds cannot
 * carry. Resolves with the parsed JSON body; rejects on a status of 300 or more.
 */
const keptAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
export function keptAliveRequest(port: number, headers: Record<string, string>, method: string, pathname: string, body?: unknown): Promise<any> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: pathname, agent: keptAlive, headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${pathname} answered ${res.statusCode}: ${text.slice(0, 500)}`));
          else resolve(JSON.parse(text));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Closes the kept-alive connection of keptAliveRequest (before a server it reached stops). */
export function closeKeptAlive(): void {
  keptAlive.destroy();
}

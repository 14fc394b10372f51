// One autocannon run, reduced to the figures the report needs.
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { cpuSecondsOf } from './proc.ts';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSec: number;
  headers?: Record<string, string>;
  requests?: autocannon.Request[];
  /** The server process whose CPU use is sampled around the run. */
  serverPid?: number;
}

export interface LoadResult {
  connections: number;
  durationSec: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Server CPU seconds per wall second (1.0 = one core busy). */
  serverCpu: number;
  /** The load generator's own CPU seconds per wall second (this process). */
  loaderCpu: number;
}

const activeInstances = new Set<autocannon.Instance>();

/** Stops any run in progress (Ctrl-C). */
export function stopLoad(): void {
  for (const i of activeInstances) i.stop();
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const cpu0 = spec.serverPid ? cpuSecondsOf(spec.serverPid) : NaN;
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSec,
        headers: spec.headers,
        requests: spec.requests,
        timeout: 10,
      },
      (err, result) => {
        if (err) return reject(err);
        const wall = (performance.now() - t0) / 1000;
        const own = process.cpuUsage(own0);
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
        const total = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
        resolve({
          connections: spec.connections,
          durationSec: result.duration,
          requests: total,
          rps: total / result.duration,
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          maxMs: result.latency.max,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          serverCpu: spec.serverPid ? (cpuSecondsOf(spec.serverPid) - cpu0) / wall : NaN,
          loaderCpu: (own.user + own.system) / 1e6 / wall,
        });
      },
    );
    activeInstances.add(instance);
    instance.once('done', () => activeInstances.delete(instance));
  });
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Medians of the figures of several runs of one scenario; counts are summed. */
export function combine(runs: LoadResult[]): LoadResult {
  const first = runs[0]!;
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
  const m = (f: (r: LoadResult) => number) => median(runs.map(f));
  return {
    connections: first.connections,
    durationSec: m((r) => r.durationSec),
    requests: runs.reduce((s, r) => s + r.requests, 0),
    rps: m((r) => r.rps),
    p50: m((r) => r.p50),
    p90: m((r) => r.p90),
    p99: m((r) => r.p99),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    timeouts: runs.reduce((s, r) => s + r.timeouts, 0),
    statusCodes,
    serverCpu: m((r) => r.serverCpu),
    loaderCpu: m((r) => r.loaderCpu),
  };
}

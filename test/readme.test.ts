// The README's promises, checked against the real thing: its curl walk-through runs, block by
// block in one bash session, against a real server process on a fresh embedded database, and
// every block's output must match the output the README shows; its configuration table must
// name every environment variable src/config.ts reads; its quick start and development
// commands must exist.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from './helpers/server-process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

const COMMAND_MARK = '<!-- walkthrough -->';
const OUTPUT_MARK = '<!-- walkthrough-output -->';

interface Step {
  /** 1-based, in README order. */
  index: number;
  script: string;
  /** The output the README shows for this block, if it shows one. */
  expected: string | undefined;
}

/** The fenced block that starts right after `offset` (only blank space in between), or undefined. */
function fenceAfter(text: string, offset: number): { lang: string; body: string } | undefined {
  const m = /^\s*```([A-Za-z]*)\n([\s\S]*?)\n```/.exec(text.slice(offset));
  return m ? { lang: m[1] ?? '', body: m[2] ?? '' } : undefined;
}

/** Marked command blocks, each with the marked output block that follows it. */
function walkthroughSteps(text: string): Step[] {
  const steps: Step[] = [];
  const marks = /<!-- walkthrough(-output)? -->/g;
  for (let m = marks.exec(text); m; m = marks.exec(text)) {
    const fence = fenceAfter(text, m.index + m[0].length);
    if (!fence) throw new Error(`README: ${m[0]} at offset ${m.index} is not followed by a fenced code block`);
    if (m[0] === COMMAND_MARK) {
      if (fence.lang !== 'sh' && fence.lang !== 'bash') throw new Error(`README: walk-through block ${steps.length + 1} must be a sh block, not "${fence.lang}"`);
      steps.push({ index: steps.length + 1, script: fence.body, expected: undefined });
    } else {
      const last = steps.at(-1);
      if (!last || last.expected !== undefined) throw new Error(`README: ${OUTPUT_MARK} at offset ${m.index} does not follow a walk-through command block`);
      last.expected = fence.body;
    }
  }
  return steps;
}

/** The README's shown output as a pattern: `…` stands for any text within one line. */
function outputPattern(expected: string): RegExp {
  const parts = expected.trim().split('…').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[^\\n]*?')}$`);
}

function has(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function run(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('README', () => {
  it('has a quick start of exactly npm install, npm start and npm test', () => {
    const section = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? '';
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]);
    expect(blocks.slice(0, 2)).toEqual(['npm install\nnpm start', 'npm test']);
  });

  it('documents every environment variable that src/config.ts reads', () => {
    const source = readFileSync(path.join(root, 'src/config.ts'), 'utf8');
    const names = new Set<string>();
    for (const m of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]!);
    for (const m of source.matchAll(/\(env, '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]!);
    // Per-plan variables are built from a template such as `SPRINTLANE_RATE_LIMIT_${name}_HOURLY`.
    const plans = [...source.matchAll(/\bplan\('([A-Z]+)'/g)].map((m) => m[1]!);
    expect(plans.length).toBeGreaterThan(0);
    for (const m of source.matchAll(/`([A-Z][A-Z0-9_]*)\$\{name\}([A-Z0-9_]*)`/g)) {
      for (const p of plans) names.add(`${m[1]}${p}${m[2]}`);
    }
    expect(names.size).toBeGreaterThan(10);
    const table = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((n) => n[1]!)));
    expect([...names].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !names.has(n))).toEqual([]);
  });

  it('names only npm scripts that package.json defines', () => {
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const used = [...readme.matchAll(/\bnpm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(used).toEqual(expect.arrayContaining(['check', 'openapi', 'bench']));
    expect(used.filter((s) => !(s in scripts))).toEqual([]);
    // `npm start` runs the bundle of src/main.ts, the entry point the walk-through's server runs.
    expect(scripts.prestart).toContain('npm run build');
    expect(scripts.build).toBe('node scripts/build.mjs');
    expect(readFileSync(path.join(root, 'scripts', 'build.mjs'), 'utf8')).toContain("entryPoints: ['src/main.ts']");
    expect(scripts.start).toContain('dist/main.js');
  });

  it('marks the walk-through blocks, each with the output it shows', () => {
    const steps = walkthroughSteps(readme);
    expect(steps.length).toBeGreaterThanOrEqual(8);
    for (const s of steps) expect(s.expected, `walk-through block ${s.index} shows no output`).toBeDefined();
    const all = steps.map((s) => s.script).join('\n');
    for (const needle of ['/v1/workspaces', '/v1/api-keys/self', '/projects', '/tasks', '/move', 'POST "$SPRINTLANE_URL/v1/api-keys"', 'DELETE "$SPRINTLANE_URL/v1/tasks/$TASK"', '"Implement login feature"', '"in_progress"']) {
      expect(all).toContain(needle);
    }
    // The setup the reader runs by hand: the test provides the same two variables.
    expect(readme).toContain('export SPRINTLANE_URL=http://127.0.0.1:3000\nexport TOKEN=');
  });
});

describe('README walk-through against a real server', () => {
  const token = `readme_${randomBytes(16).toString('hex')}`;
  let workDir = '';
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    if (!has('jq', ['--version'])) {
      throw new Error('The README walk-through needs jq, which is not installed (on Debian/Ubuntu: apt-get install -y jq).');
    }
    if (!has('curl', ['--version'])) {
      throw new Error('The README walk-through needs curl, which is not installed (on Debian/Ubuntu: apt-get install -y curl).');
    }
    workDir = mkdtempSync(path.join(tmpdir(), 'sprintlane-readme-work-'));
    // The walk-through runs on the embedded database (the helper drops DATABASE_URL and REDIS_URL).
    server = await startServer({ env: { SPRINTLANE_ADMIN_TOKEN: token } });
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 30_000);

  it('prints the first-start notice without echoing the chosen key', () => {
    const out = server!.stdout() + server!.stderr();
    expect(out).toMatch(/Sprintlane: first start\. Created the owner admin@sprintlane\.local \(instance administrator\), the workspace "default"/);
    expect(out).toMatch(/an admin API key \(key_[A-Za-z0-9]+\) whose secret is the SPRINTLANE_ADMIN_TOKEN you gave/);
    expect(out).not.toContain(token);
  });

  it('runs every block as written, each printing the output the README shows', async () => {
    const steps = walkthroughSteps(readme);
    const marker = (i: number) => `@@readme-step-${i}@@`;
    const script = steps.map((s) => `printf '%s\\n' '${marker(s.index)}'\n${s.script}\n`).join('') + `printf '%s\\n' '${marker(0)}'\n`;
    const file = path.join(workDir, 'walkthrough.sh');
    writeFileSync(file, script);
    const result = await run('bash', ['-euo', 'pipefail', file], {
      cwd: workDir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', SPRINTLANE_URL: server!.url, TOKEN: token },
      timeoutMs: 60_000,
    });
    const stdout = result.stdout.replace(/\r/g, '');
    // Which block failed, if one did: the last marker printed.
    const reached = [...stdout.matchAll(/@@readme-step-(\d+)@@/g)].map((m) => Number(m[1])).at(-1);
    expect(result.code, `walk-through failed in block ${reached} (signal ${result.signal});\nstdout:\n${stdout}\nstderr:\n${result.stderr}`).toBe(0);
    expect(result.stderr).toBe('');

    for (const step of steps) {
      const start = stdout.indexOf(marker(step.index));
      const next = step.index < steps.length ? marker(step.index + 1) : marker(0);
      const end = stdout.indexOf(next);
      expect(start).toBeGreaterThanOrEqual(0);
      const actual = stdout.slice(start + marker(step.index).length, end).trim();
      expect(actual, `block ${step.index} printed:\n${actual}\n\nbut the README shows:\n${step.expected}`).toMatch(outputPattern(step.expected!));
    }
  }, 90_000);

  it('left the server in the state the walk-through describes', async () => {
    const get = async (p: string, key = token) => {
      const res = await fetch(server!.url + p, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const projects = await get('/v1/workspaces');
    const ws = projects.body.data.find((w: any) => w.slug === 'default');
    const list = await get(`/v1/workspaces/${ws.id}/projects`);
    expect(list.body.data.map((p: any) => p.name)).toEqual(['Website']);
    const tasks = await get(`/v1/projects/${list.body.data[0].id}/tasks`);
    expect(tasks.body.meta.total).toBe(0); // the task was deleted
    const keys = await get('/v1/api-keys');
    const ci = keys.body.data.find((k: any) => k.name === 'ci-readonly');
    expect(ci.scopes).toEqual(['read']);
    expect(ci.revoked_at).not.toBeNull();
  });
});

// The OpenAPI document: committed and served copies agree, it is valid 3.1, every operation is
// fully described, and it lists exactly the routes the server registers.
import { Validator } from '@seriousme/openapi-schema-validator';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import type { JsonSchema } from '../helpers/openapi-sample.ts';

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Array<{ name: string; schema?: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  'x-error-codes': Record<string, { status: number; kind: string; rule: string }>;
}

/** Every source file of the server, as text. */
function sources(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : [],
  );
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

let t: TestApp;
let served: Doc;
beforeAll(async () => {
  t = await createTestApp();
  const res = await t.request<Doc>({ url: '/openapi.json' });
  expect(res.status).toBe(200);
  served = res.body;
});
afterAll(async () => {
  await t?.close();
});

function operations(doc: Doc): Array<{ path: string; method: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );
}

/** `METHOD /path/:param` lines parsed from Fastify's own route tree (HEAD is implied by GET). */
function registeredRoutes(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) {
      if (line.trim()) throw new Error(`Unparsed route tree line: ${line}`);
      continue;
    }
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(path);
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      if (method !== 'HEAD') out.add(`${method} ${path}`);
    }
  }
  return out;
}

const toFastifyPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

describe('openapi', () => {
  it('the served /openapi.json equals the committed openapi.json (run `npm run openapi` after changing a route)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as Doc;
    expect(served, 'openapi.json is stale: run `npm run openapi` and commit the result').toEqual(committed);
  });

  it('the document is valid OpenAPI 3.1 according to @seriousme/openapi-schema-validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(served) as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(served.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it('every operation has a unique operationId, tags and a summary', () => {
    const ops = operations(served);
    expect(ops.length).toBeGreaterThan(20);
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) problems.push(`${where}: no operationId`);
      else if (seen.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} also used by ${seen.get(op.operationId)}`);
      else seen.set(op.operationId, where);
      if (!op.tags?.length || op.tags.some((tag) => !tag)) problems.push(`${where}: no tags`);
      if (!op.summary?.trim()) problems.push(`${where}: no summary`);
    }
    expect(problems).toEqual([]);
  });

  it('every operation declares a response schema for its 2xx status', () => {
    const problems: string[] = [];
    for (const { path, method, op } of operations(served)) {
      const ok = Object.entries(op.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
      if (!ok.length) problems.push(`${method.toUpperCase()} ${path}: no 2xx response`);
      for (const [status, response] of ok) {
        const schemas = Object.values(response.content ?? {}).map((c) => c.schema);
        if (!schemas.length || schemas.some((s) => s === undefined)) problems.push(`${method.toUpperCase()} ${path}: ${status} has no schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every operation that needs a key declares 401 and 429 with the error envelope; public ones need no key', async () => {
    const problems: string[] = [];
    let secured = 0;
    for (const { path, method, op } of operations(served)) {
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (isPublic) {
        if (method === 'get' && !path.includes('{')) {
          const res = await t.request({ url: path });
          if (res.status !== 200) problems.push(`public GET ${path} answered ${res.status} without a key`);
        }
        continue;
      }
      secured += 1;
      for (const status of ['401', '429']) {
        const schema = op.responses?.[status]?.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (!schema) problems.push(`${method.toUpperCase()} ${path}: no ${status} response`);
        else if (schema.$ref !== '#/components/schemas/Error') problems.push(`${method.toUpperCase()} ${path}: ${status} is not the Error envelope`);
      }
    }
    expect(secured).toBeGreaterThan(15);
    expect(problems).toEqual([]);
  });

  it('x-error-codes gives every error code a status, a kind and its rule, and each one is given somewhere by the server', () => {
    const catalogue = served['x-error-codes'];
    const codes = Object.keys(catalogue);
    expect(codes.length).toBeGreaterThan(50);
    const kinds = new Set(['request', 'access', 'not_found', 'rule', 'state', 'limit', 'server']);
    const malformed = codes.filter((c) => {
      const e = catalogue[c]!;
      return !/^[A-Z][A-Z_]+$/.test(c) || !(e.status >= 400 && e.status < 600) || !kinds.has(e.kind) || e.rule.length < 10;
    });
    expect(malformed).toEqual([]);
    // error-codes.ts is the catalogue itself; a code only it names is given by nobody.
    const text = sources().filter((f) => !f.includes('export const ERROR_CODES')).join('\n');
    expect(codes.filter((c) => !text.includes(`'${c}'`))).toEqual([]);
  });

  it('every error response of every operation says what its status means, not a placeholder', () => {
    const problems: string[] = [];
    for (const { path, method, op } of operations(served)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (Number(status) >= 400 && (!response.description || response.description === 'Default Response')) problems.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every string and array a request can carry has a maximum: in parameters and in bodies, however nested (OWASP API4)', () => {
    const unbounded: string[] = [];
    const walk = (s: JsonSchema | undefined, where: string): void => {
      if (!s || typeof s !== 'object' || s.$ref) return;
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (types.includes('string') && s.maxLength === undefined && !s.enum && s.const === undefined) unbounded.push(`${where}: a string without maxLength`);
      if (types.includes('array') && s.maxItems === undefined) unbounded.push(`${where}: an array without maxItems`);
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`);
      walk(s.items, `${where}[]`);
      for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(alt, where);
    };
    for (const { path, method, op } of operations(served)) {
      for (const p of op.parameters ?? []) walk(p.schema, `${method.toUpperCase()} ${path} ?${p.name}`);
      walk(op.requestBody?.content?.['application/json']?.schema, `${method.toUpperCase()} ${path} body`);
    }
    expect(unbounded).toEqual([]);
  });

  it('the routes Fastify registers are exactly the operations in the document', () => {
    const documented = new Set(operations(served).map(({ path, method }) => `${method.toUpperCase()} ${toFastifyPath(path)}`));
    const registered = registeredRoutes(t.app.printRoutes({ commonPrefix: false }));
    expect([...registered].sort()).toEqual([...documented].sort());
    for (const entry of documented) {
      const [method, url] = entry.split(' ') as [string, string];
      expect(t.app.hasRoute({ method: method as never, url }), `${entry} is documented but not registered`).toBe(true);
    }
  });

  it('every documented operation is routed: none answers ROUTE_NOT_FOUND or METHOD_NOT_ALLOWED', async () => {
    const problems: string[] = [];
    for (const { path, method } of operations(served)) {
      const url = path.replace(/\{(\w+)\}/g, 'nosuch_0000000000000000');
      const hasBody = ['post', 'put', 'patch'].includes(method);
      const res = await t.request({ method: method.toUpperCase(), url, key: t.adminKey, body: hasBody ? {} : undefined });
      const code = (res.body as { error?: { code?: string } } | undefined)?.error?.code;
      if (code === 'ROUTE_NOT_FOUND' || code === 'METHOD_NOT_ALLOWED' || res.status === 405) {
        problems.push(`${method.toUpperCase()} ${path} answered ${res.status} ${code}`);
      }
      if (res.status >= 500) problems.push(`${method.toUpperCase()} ${path} answered ${res.status}`);
    }
    expect(problems).toEqual([]);
    // The check itself can tell: an undocumented path is reported as unrouted.
    const missing = await t.request({ url: '/v1/no-such-resource', key: t.adminKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

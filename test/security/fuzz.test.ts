// Fuzzing every operation from its own schemas (fast-check): requests the schemas accept only ever
// meet the refusals the document states (a status the operation declares, with a code of that
// status from `x-error-codes` that is not a refusal of the request's form, naming a field the
// operation has); requests that break exactly one constraint get a 400 naming the field; and no
// request of either kind gets a 5xx or a response outside its declared schema (the test app
// checks every response against the document).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { operations, type Doc, type JsonSchema, type Operation } from '../helpers/openapi-sample.ts';
import { brokenOnce, valid } from '../helpers/schema-arbitrary.ts';
import { buildSweepWorld, type SweepWorld } from '../helpers/sweep-world.ts';

/** Requests per operation: half from its schema, half breaking one of its constraints. */
const RUNS = Number(process.env.SPRINTLANE_FUZZ_RUNS ?? 100);

interface Catalogued {
  status: number;
  kind: string;
}

/** The operations whose success may change the slugs of the world's workspace or project. */
const SLUGGED = /^\/v1\/(workspaces|projects)\/\{id\}$/;

/** The kinds of refusal a request its schemas accept, made by the workspace's owner, never meets. */
const NEVER_FOR_VALID = new Set(['request', 'access', 'limit', 'server']);

let t: TestApp;
let doc: Doc & { 'x-error-codes': Record<string, Catalogued> };
let world: SweepWorld;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  doc = (await t.request<typeof doc>({ url: '/openapi.json' })).body;
  world = await buildSweepWorld(t);
});
afterAll(async () => {
  await t?.close();
});

const withBodies = () =>
  operations(doc)
    .map(([path, method, op]) => ({ path, method, op, schema: op.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined }))
    .filter((o) => o.schema !== undefined);

/** Operations with query parameters, each with its query as one object schema. */
const withQueries = () =>
  operations(doc)
    .map(([path, method, op]) => {
      const params = (op.parameters ?? []).filter((p) => p.in === 'query');
      const schema: JsonSchema = {
        type: 'object',
        properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
        required: params.filter((p) => p.required).map((p) => p.name),
      };
      return { path, method, op, schema, count: params.length, body: op.requestBody !== undefined };
    })
    // Operations with a body as well are fuzzed through their bodies above.
    .filter((o) => o.count > 0 && !o.body);

/** Operations with parameters in their path, each with its path parameters as one object schema. */
const withPaths = () =>
  operations(doc)
    .map(([path, method, op]) => {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path');
      const schema: JsonSchema = {
        type: 'object',
        properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
        required: params.map((p) => p.name),
      };
      const body = op.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined;
      return { path, method, op, schema, count: params.length, body };
    })
    .filter((o) => o.count > 0);

/** The route with generated path parameters, and the slugs the GitScrum-style routes need. */
function pathWith(path: string, params: Record<string, unknown>): string {
  const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(String(params[name])));
  return path.startsWith('/time-trackings') ? `${url}?company_slug=${world.slugs.company_slug}&project_slug=${world.slugs.project_slug}` : url;
}

/**
 * A query string from generated values. The GitScrum-style routes keep naming the world's
 * project by its slugs, except for the one parameter being broken (`broken`).
 */
function queryOf(path: string, values: Record<string, unknown>, broken?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  if (path.startsWith('/time-trackings')) {
    for (const slug of ['company_slug', 'project_slug'] as const) if (slug !== broken) q.set(slug, world.slugs[slug]);
  }
  const url = world.urlOf(path).split('?')[0]!;
  const text = q.toString();
  return text ? `${url}?${text}` : url;
}

/**
 * Runs `check` on RUNS requests from `arbitrary` for one operation, recording in `problems` what
 * failed: the property's own verdict, or anything thrown (a response outside its declared schema).
 */
async function fuzz<T>(
  problems: string[],
  o: { path: string; method: string; op: Operation },
  arbitrary: fc.Arbitrary<T>,
  request: (v: T) => { url: string; body?: unknown },
  bad: (v: T, res: Response) => string | undefined,
): Promise<void> {
  await fc
    .assert(
      fc.asyncProperty(arbitrary, async (v) => {
        const { url, body } = request(v);
        // The admin routes are the instance administrator's; everything else is the owner's.
        const key = o.path.startsWith('/v1/admin/') ? t.adminKey : world.actors.owner.key;
        const res = await t.request({ method: o.method.toUpperCase(), url, key, body });
        // The GitScrum-style routes name the world by slugs, which this update may have changed.
        if (res.status < 300 && SLUGGED.test(o.path)) await world.refreshSlugs();
        const why = bad(v, res);
        if (why) problems.push(`${o.op.operationId}: ${why}: ${url} ${JSON.stringify(body ?? null).slice(0, 200)} -> ${res.status} ${res.text.slice(0, 300)}`);
        return why === undefined;
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    .catch((err: unknown) => {
      const message = String((err as Error).message ?? err);
      if (!message.startsWith('Property failed')) problems.push(`${o.op.operationId}: ${message.slice(0, 400)}`);
    });
}

/**
 * Why the response to a request its schemas accept is not one the document allows, or undefined:
 * a success, or a refusal the operation declares, of a kind a valid request can meet (a rule about
 * its meaning, a reference to nothing, the state of a resource), naming a field the operation has.
 */
function undocumented(o: { op: Operation }, res: Response, fields: Set<string>): string | undefined {
  if (res.status >= 500) return 'a 5xx';
  if (res.status < 400) return undefined;
  const code = String(res.body?.error?.code);
  const entry = doc['x-error-codes'][code];
  if (!entry) return `${code}: not in x-error-codes`;
  if (entry.status !== res.status) return `${code} with status ${res.status}; x-error-codes gives ${entry.status}`;
  if (!(String(res.status) in (o.op.responses ?? {}))) return `${res.status}: not a status the operation declares`;
  if (NEVER_FOR_VALID.has(entry.kind)) return `${code}: a refusal of kind ${entry.kind} for a valid request`;
  const param = res.body?.error?.param as string | undefined;
  if (param !== undefined && !fields.has(param.split(/[.[]/)[0]!)) return `${code} names ${param}, which the operation does not have`;
  return undefined;
}

/** The names an error's `param` may give for an operation: its body fields, parameters and headers. */
function fieldsOf(path: string, op: Operation, body: JsonSchema | undefined): Set<string> {
  const names = new Set<string>(['Idempotency-Key', 'If-Match']);
  for (const m of path.matchAll(/\{(\w+)\}/g)) names.add(m[1]!);
  for (const p of op.parameters ?? []) names.add(p.name);
  for (const k of Object.keys(body?.properties ?? {})) names.add(k);
  return names;
}

describe('fuzzing', () => {
  it('covers every operation that takes a JSON body', () => {
    expect(withBodies().length).toBeGreaterThanOrEqual(30);
  });

  it(`gives every operation at least ${2 * RUNS} generated requests: through its body, its query or its path`, () => {
    const fuzzed = new Set([...withBodies(), ...withQueries(), ...withPaths()].map((o) => o.op.operationId));
    // The public operations without parameters (health, the document itself) take no input at all.
    const inputless = operations(doc).filter(([, , op]) => !op.requestBody && !(op.parameters ?? []).length).map(([, , op]) => op.operationId);
    const missing = operations(doc).map(([, , op]) => op.operationId).filter((id) => !fuzzed.has(id) && !inputless.includes(id));
    expect(missing).toEqual([]);
  });

  it(`${RUNS} bodies each operation's schema accepts: only the refusals the document states, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withBodies()) {
      const fields = fieldsOf(o.path, o.op, o.schema);
      await fuzz(problems, o, valid(o.schema!, world.references), (body) => ({ url: world.urlOf(o.path), body }), (_b, res) => undocumented(o, res, fields));
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  it(`${RUNS} bodies breaking exactly one constraint of each operation's schema: a 400 that names the field, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withBodies()) {
      const broken = brokenOnce(o.schema!);
      if (!broken) continue;
      await fuzz(problems, o, broken, (b) => ({ url: world.urlOf(o.path), body: b.body }), ({ field, how }, res) => {
        const param = String(res.body?.error?.param ?? '');
        const named = param === field || param.startsWith(`${field}.`) || param.startsWith(`${field}[`);
        return res.status === 400 && named ? undefined : `${field} ${how}: not a 400 naming ${field}`;
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  it(`${RUNS} queries each operation's parameters accept: only the refusals the document states, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withQueries()) {
      const fields = fieldsOf(o.path, o.op, undefined);
      await fuzz(problems, o, valid(o.schema, world.references) as fc.Arbitrary<Record<string, unknown>>, (q) => ({ url: queryOf(o.path, q) }), (_q, res) =>
        undocumented(o, res, fields),
      );
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  it(`${RUNS} queries breaking exactly one parameter's constraint: a 400 that names the parameter, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withQueries()) {
      // Only the constraints a query string can break: every value arrives as text.
      const broken = brokenOnce({ ...o.schema, additionalProperties: true }, { textOnly: true });
      if (!broken) continue;
      await fuzz(problems, o, broken, (b) => ({ url: queryOf(o.path, b.body, b.field) }), ({ field, how }, res) => {
        const param = String(res.body?.error?.param ?? '');
        return res.status === 400 && param === field ? undefined : `${field} ${how}: not a 400 naming ${field}`;
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  // Last: a generated id can only name nothing, but an operation on nothing must still be safe.
  it(`${RUNS} path parameters each operation's path accepts (with a body its schema accepts): only the refusals the document states, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withPaths()) {
      const fields = fieldsOf(o.path, o.op, o.body);
      const arbitrary = fc.record({ params: valid(o.schema) as fc.Arbitrary<Record<string, unknown>>, body: o.body ? valid(o.body, world.references) : fc.constant(undefined) });
      await fuzz(problems, o, arbitrary, (v) => ({ url: pathWith(o.path, v.params), body: v.body }), (_v, res) => undocumented(o, res, fields));
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  it(`${RUNS} path parameters breaking their schema: a 400 that names the parameter, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withPaths()) {
      // A path parameter is text and always present: too long is the constraint a URL can break.
      const broken = brokenOnce({ ...o.schema, additionalProperties: true }, { textOnly: true });
      if (!broken) {
        problems.push(`${o.op.operationId}: no way to break its path parameters`);
        continue;
      }
      await fuzz(problems, o, broken, (b) => ({ url: pathWith(o.path, b.body) }), ({ field, how }, res) => {
        const param = String(res.body?.error?.param ?? '');
        return res.status === 400 && param === field ? undefined : `${field} ${how}: not a 400 naming ${field}`;
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);
});

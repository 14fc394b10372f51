// Fuzzing every operation that takes a body, from its own schema (fast-check): bodies the schema
// accepts never meet a schema refusal, bodies that break exactly one constraint get a 400 naming
// the field, and no request of either kind gets a 5xx or a response outside its declared schema
// (the test app checks every response against the document).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type Response, type TestApp } from '../app.ts';
import { operations, type Doc } from '../helpers/openapi-sample.ts';
import { brokenOnce, valid, type Schema } from '../helpers/schema-arbitrary.ts';
import { buildSweepWorld, type SweepWorld } from '../helpers/sweep-world.ts';

/** Requests per operation: half from its schema, half breaking one of its constraints. */
const RUNS = Number(process.env.SPRINTLANE_FUZZ_RUNS ?? 100);

let t: TestApp;
let doc: Doc;
let world: SweepWorld;
beforeAll(async () => {
  t = await createTestApp({ env: { SPRINTLANE_RATE_LIMIT: 'false' } });
  doc = (await t.request<Doc>({ url: '/openapi.json' })).body;
  world = await buildSweepWorld(t);
});
afterAll(async () => {
  await t?.close();
});

const withBodies = () =>
  operations(doc)
    .map(([path, method, op]) => ({ path, method, op, schema: op.requestBody?.content?.['application/json']?.schema as Schema | undefined }))
    .filter((o) => o.schema !== undefined);

/**
 * Runs `check` on RUNS requests from `arbitrary` for one operation, recording in `problems` what
 * failed: the property's own verdict, or anything thrown (a response outside its declared schema).
 */
async function fuzz<T>(
  problems: string[],
  o: ReturnType<typeof withBodies>[number],
  arbitrary: fc.Arbitrary<T>,
  bodyOf: (v: T) => unknown,
  bad: (v: T, res: Response) => string | undefined,
): Promise<void> {
  await fc
    .assert(
      fc.asyncProperty(arbitrary, async (v) => {
        const res = await t.request({ method: o.method.toUpperCase(), url: world.urlOf(o.path), key: world.actors.owner.key, body: bodyOf(v) });
        const why = bad(v, res);
        if (why) problems.push(`${o.op.operationId}: ${why}: ${JSON.stringify(bodyOf(v)).slice(0, 200)} -> ${res.status} ${res.text.slice(0, 300)}`);
        return why === undefined;
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    .catch((err: unknown) => {
      const message = String((err as Error).message ?? err);
      if (!message.startsWith('Property failed')) problems.push(`${o.op.operationId}: ${message.slice(0, 400)}`);
    });
}

describe('fuzzing', () => {
  it('covers every operation that takes a JSON body', () => {
    expect(withBodies().length).toBeGreaterThanOrEqual(30);
  });

  it(`${RUNS} bodies each operation's schema accepts: never a schema refusal, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withBodies()) {
      await fuzz(problems, o, valid(o.schema!), (body) => body, (_b, res) =>
        res.status >= 500 ? 'a 5xx' : res.status === 400 && res.body?.error?.code === 'VALIDATION_ERROR' ? 'a schema refusal of a valid body' : undefined,
      );
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);

  it(`${RUNS} bodies breaking exactly one constraint of each operation's schema: a 400 that names the field, never a 5xx`, async () => {
    const problems: string[] = [];
    for (const o of withBodies()) {
      const broken = brokenOnce(o.schema!);
      if (!broken) continue;
      await fuzz(problems, o, broken, (b) => b.body, ({ field, how }, res) => {
        const param = String(res.body?.error?.param ?? '');
        const named = param === field || param.startsWith(`${field}.`) || param.startsWith(`${field}[`);
        return res.status === 400 && named ? undefined : `${field} ${how}: not a 400 naming ${field}`;
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  }, 600_000);
});

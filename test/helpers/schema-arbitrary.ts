// fast-check arbitraries from the JSON schemas of the OpenAPI document: values a schema accepts,
// and values that break exactly one of its constraints (naming the field they break). Written
// here: the JSON-schema generators on npm target other draft versions or need a schema compiler
// of their own; the document's schemas use a small, known subset.
import fc, { type Arbitrary } from 'fast-check';
import type { JsonSchema } from './openapi-sample.ts';


const PRINTABLE = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });

/**
 * Values for some schemas chosen by the caller, by the schema and the name of the field it is for
 * (such as ids of resources that exist, so that generated references also reach the paths where
 * they resolve), or undefined for the generator's own.
 */
export type Chooser = (s: JsonSchema, field: string | undefined) => Arbitrary<unknown> | undefined;

/** Values the schema accepts (`field`: the name of the field it is for, if any). */
export function valid(s: JsonSchema, choose?: Chooser, field?: string): Arbitrary<unknown> {
  const chosen = choose?.(s, field);
  if (chosen) return chosen;
  const inner = (x: JsonSchema) => valid(x, choose, field);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  if (s.anyOf?.length) return fc.oneof(...s.anyOf.map(inner));
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return validString(s);
    case 'array': {
      const max = Math.min(s.maxItems ?? 3, Math.max(3, s.minItems ?? 0));
      const opts = { minLength: s.minItems ?? 0, maxLength: max };
      const item = valid(s.items ?? {}, choose);
      return s.uniqueItems ? fc.uniqueArray(item, { ...opts, selector: (v) => JSON.stringify(v) }) : fc.array(item, opts);
    }
    case 'object': {
      const props = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valid(v, choose, k)]));
      return fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
    default:
      return fc.oneof(fc.integer(), PRINTABLE, fc.boolean());
  }
}

export function validString(s: JsonSchema): Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 100;
  const fits = (v: string) => [...v].length >= min && [...v].length <= max;
  switch (s.format) {
    case 'date':
      return fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    case 'email':
      return fc.tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.stringMatching(/^[a-z]{1,12}$/)).map(([a, b]) => `${a}@${b}.test`);
    case 'uuid':
      return fc.uuid();
  }
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
  return fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: Math.min(max, 60) }).filter(fits);
}

/** One way to break one constraint of an object's field: the body and the field it breaks. */
export interface Broken {
  body: Record<string, unknown>;
  field: string;
  how: string;
}

/**
 * Bodies that break exactly one constraint of the (object) schema, at its top level. `textOnly`:
 * only breakages a query string can carry (its values are all text, and a missing one is absent).
 */
export function brokenOnce(s: JsonSchema, opts: { textOnly?: boolean } = {}): Arbitrary<Broken> | undefined {
  const props = s.properties ?? {};
  const ways: Array<Arbitrary<Broken>> = [];
  const base = valid(s) as Arbitrary<Record<string, unknown>>;
  const set = (field: string, how: string, value: Arbitrary<unknown>) =>
    ways.push(fc.tuple(base, value).map(([b, v]) => ({ body: { ...b, [field]: v }, field, how })));
  // Too long, and nothing else: where the over-long text still matches the pattern.
  const tooLong = (p: JsonSchema) =>
    p.maxLength !== undefined && !p.enum && !p.format && (!p.pattern || new RegExp(p.pattern).test('x'.repeat(p.maxLength + 1)));
  for (const [field, p] of Object.entries(props)) {
    if (p.anyOf || p.const !== undefined) continue;
    const type = Array.isArray(p.type) ? p.type[0] : p.type;
    if (opts.textOnly) {
      if (type === 'integer') {
        set(field, 'not a number', fc.constant('twelve'));
        if (p.maximum !== undefined) set(field, 'above the maximum', fc.constant(p.maximum + 1));
        if (p.minimum !== undefined) set(field, 'below the minimum', fc.constant(p.minimum - 1));
      } else if (type === 'string' && tooLong(p)) {
        set(field, 'too long', fc.constant('x'.repeat(p.maxLength! + 1)));
      } else if (type === 'string' && p.enum?.length) {
        set(field, 'not one of the values', fc.constant('not-one-of-them'));
      }
      continue;
    }
    if (type === 'string') {
      set(field, 'a number for a string', fc.integer());
      if (tooLong(p)) set(field, 'too long', fc.constant('x'.repeat(p.maxLength! + 1)));
      if (p.enum?.length) set(field, 'not one of the values', fc.constant('not-one-of-them'));
    } else if (type === 'integer') {
      set(field, 'a string for an integer', fc.constant('twelve'));
      if (p.maximum !== undefined) set(field, 'above the maximum', fc.constant(p.maximum + 1));
      if (p.minimum !== undefined) set(field, 'below the minimum', fc.constant(p.minimum - 1));
      set(field, 'a fraction for an integer', fc.constant(1.5));
    } else if (type === 'boolean') {
      set(field, 'a string for a boolean', fc.constant('yes'));
    } else if (type === 'array') {
      set(field, 'an object for an array', fc.constant({}));
      if (p.maxItems !== undefined && p.items) set(field, 'too many items', fc.array(valid(p.items), { minLength: p.maxItems + 1, maxLength: p.maxItems + 1 }));
    } else if (type === 'object') {
      set(field, 'a string for an object', fc.constant('x'));
    }
  }
  for (const field of opts.textOnly ? [] : (s.required ?? [])) {
    ways.push(base.map((b) => {
      const { [field]: _gone, ...rest } = b;
      return { body: rest, field, how: 'required, left out' };
    }));
  }
  if (s.additionalProperties === false) ways.push(base.map((b) => ({ body: { ...b, not_a_field: 1 }, field: 'not_a_field', how: 'a field the schema does not have' })));
  return ways.length ? fc.oneof(...ways) : undefined;
}

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { FORM_BODY } from './body.ts';
import { AppError } from './errors.ts';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats(ajv);
  return ajv;
}

/**
 * JSON bodies are validated strictly (a string is never a number); form bodies, query strings and
 * path parameters arrive as text and are coerced. Unknown body fields are errors, not silently dropped.
 */
export function installValidation(app: FastifyInstance, sharedSchemas: object[]): void {
  const strict = makeAjv(false);
  const coercing = makeAjv(true);
  const query = makeAjv('array');
  for (const s of sharedSchemas) for (const ajv of [strict, coercing, query]) ajv.addSchema(s);
  // Routes share schema objects (path ids, page queries); compile each once. Form-body validators
  // are compiled on first use, since most clients only ever send JSON.
  const bodies = new WeakMap<object, ValidateFunction>();
  const others = new WeakMap<object, ValidateFunction>();
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') {
      const cached = bodies.get(schema);
      if (cached) return cached;
      const json = strict.compile(schema);
      let form: ValidateFunction | undefined;
      const validate = ((data: unknown) => {
        const isForm = data !== null && typeof data === 'object' && (data as Record<symbol, unknown>)[FORM_BODY] === true;
        const fn = isForm ? (form ??= coercing.compile(schema)) : json;
        const ok = fn(data);
        validate.errors = fn.errors;
        return ok;
      }) as ValidateFunction;
      bodies.set(schema, validate);
      return validate;
    }
    let fn = others.get(schema);
    if (!fn) {
      fn = query.compile(schema);
      others.set(schema, fn);
    }
    return fn;
  });
}

function paramOf(e: ErrorObject): string | undefined {
  const base = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
  const child =
    (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ??
    (e.params as { additionalProperty?: string }).additionalProperty;
  if (child) return base ? `${base}.${child}` : child;
  return base || undefined;
}

function describe(e: ErrorObject, param: string | undefined, part: string): string {
  const p = (e.params ?? {}) as Record<string, unknown>;
  const name = param ? `\`${param}\`` : part === 'body' ? 'The request body' : `The ${part}`;
  switch (e.keyword) {
    case 'required':
      return `${name} is required`;
    case 'additionalProperties':
      return `${name} is not a recognised field`;
    case 'type':
      return `${name} must be ${p.type === 'integer' ? 'an integer' : `of type ${String(p.type)}`}`;
    case 'enum':
      return `${name} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `${name} must be ${JSON.stringify(p.allowedValue)}`;
    case 'maxLength':
      return `${name} must be at most ${String(p.limit)} characters`;
    case 'minLength':
      return Number(p.limit) === 1 ? `${name} must not be empty` : `${name} must be at least ${String(p.limit)} characters`;
    case 'maximum':
      return `${name} must be at most ${String(p.limit)}`;
    case 'minimum':
      return `${name} must be at least ${String(p.limit)}`;
    case 'maxItems':
      return `${name} must have at most ${String(p.limit)} items`;
    case 'minItems':
      return `${name} must have at least ${String(p.limit)} items`;
    case 'format':
      return `${name} must be a valid ${String(p.format)}`;
    case 'pattern':
      return `${name} has an invalid format`;
    case 'uniqueItems':
      return `${name} must not contain duplicates`;
    case 'anyOf':
      return `${name} has an invalid value`;
    default:
      return `${name} ${e.message ?? 'is invalid'}`;
  }
}

/** Turns the first schema violation into a 400 that names the field. */
export function validationError(errs: ErrorObject[], part: string): AppError {
  // Prefer the most specific error: a union reports its branches before its own anyOf failure.
  const e = errs.find((x) => x.keyword !== 'anyOf') ?? errs[0]!;
  const param = paramOf(e);
  return new AppError(400, 'VALIDATION_ERROR', describe(e, param, part === 'querystring' ? 'query string' : part), param);
}

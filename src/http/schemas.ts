import { Type, type Static, type TSchema } from 'typebox';
import type { IdPrefix } from '../lib/ids.ts';
import { MAX_PER_PAGE } from '../lib/pagination.ts';
import { DATE_OR_INSTANT_PATTERN } from '../lib/time.ts';

/** Shared schema pieces. Every response object is closed (additionalProperties: false): an allow-list. */

/**
 * `T` or null, as a JSON Schema type list (`"type": ["string", "null"]`) rather than an anyOf:
 * fast-json-stringify writes a type list directly but tries the branches of an anyOf one by one
 * with a validator, which took a 25-task page from 22 to 39 µs.
 */
export function Nullable<T extends TSchema & { type: string }>(schema: T, options: { description?: string } = {}) {
  return Type.Unsafe<Static<T> | null>({ ...schema, ...options, type: [schema.type, 'null'] });
}

/** One of a few strings, as a JSON Schema enum (see Nullable for why not a union of literals). */
export function StringEnum<const V extends readonly string[]>(values: V, options: { description?: string } = {}) {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...options });
}

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp in UTC' });
export const NullableTimestamp = Nullable(Timestamp);

export const DateOnly = Type.String({ format: 'date', maxLength: 10, description: 'Calendar date, YYYY-MM-DD' });

/** A date-time that must carry an offset or Z, or a bare date (midnight UTC). Used by filters. */
export const DateOrDateTime = Type.String({
  maxLength: 40,
  pattern: DATE_OR_INSTANT_PATTERN,
  description: 'ISO 8601 date (YYYY-MM-DD) or date-time with an offset or Z',
});

/**
 * A list of `values` (or of items matching a pattern) separated by commas, as the list filters
 * take them: spaces around items and empty items are ignored; `nonEmpty`: at least one item.
 */
export function CsvOf(values: readonly string[] | { item: string }, options: { maxLength: number; description: string; nonEmpty?: boolean }) {
  const { nonEmpty, ...rest } = options;
  const item = 'item' in values ? values.item : `(?:${values.join('|')})`;
  const pattern = nonEmpty
    ? `^(?:\\s*,)*\\s*${item}\\s*(?:,\\s*(?:${item}\\s*)?)*$`
    : `^\\s*(?:${item}\\s*)?(?:,\\s*(?:${item}\\s*)?)*$`;
  return Type.String({ ...rest, pattern });
}

export function Id(prefix: IdPrefix, description?: string) {
  return Type.String({ pattern: `^${prefix}_[A-Za-z0-9]{1,60}$`, maxLength: 64, description: description ?? `${prefix}_… id` });
}

/** Path ids are accepted as any short string: a malformed id is simply "not found". */
/** Who made a change, as events carry it. */
export const ActorSchema = Type.Object(
  {
    user_id: Nullable(Id('user')),
    key_id: Nullable(Id('key'), { description: 'The API key that made the change, so an integration can skip its own echoes' }),
  },
  { additionalProperties: false, description: 'Who made the change; both null for the server itself (an auto-stopped timer)' },
);

/** A change's fields, each from its old to its new value. */
export function ChangesSchema(description: string) {
  return Nullable(Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }, { additionalProperties: false })), { description });
}

/**
 * A path segment naming a resource: any short text but `.` and `..`, which URLs cannot carry (every
 * URL parser removes them as dot segments, %2E spelled or not).
 */
export const PathSegment = (maxLength: number) =>
  Type.String({ minLength: 1, maxLength, pattern: '^(?:[^.][\\s\\S]*|\\.[^.][\\s\\S]*|\\.\\.[\\s\\S]+)$', description: 'Not `.` or `..`' });

export const PathId = Type.Object({ id: PathSegment(200) });

export const ErrorSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable, upper-snake error code' }),
        message: Type.String(),
        param: Type.Optional(Type.String({ description: 'The offending field, where there is one' })),
        details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        request_id: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'Error' },
);

export const PageMetaSchema = Type.Object(
  {
    page: Type.Integer(),
    per_page: Type.Integer(),
    total: Type.Integer(),
    count: Type.Integer(),
    current_page: Type.Integer(),
    total_pages: Type.Integer(),
  },
  { additionalProperties: false },
);

export function One<T extends TSchema>(data: T) {
  return Type.Object({ data, meta: Type.Optional(Type.Object({}, { additionalProperties: false })) }, { additionalProperties: false });
}

export function List<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), meta: PageMetaSchema }, { additionalProperties: false });
}

export const Deleted = One(
  Type.Object({ id: Type.String(), deleted: Type.Literal(true) }, { additionalProperties: false }),
);

export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Page number (default 1)' })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, description: 'Items per page (default 25, max 100)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, description: 'Alias of per_page' })),
};

/**
 * Paging and sorting for a list that can be sorted by `fields`: `sort` is one of them, or one
 * with a leading `-` for descending (so the document lists exactly the sorts the server takes).
 */
export function ListQuery(fields: readonly string[]) {
  return {
    ...PageQuery,
    sort: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...fields, ...fields.map((f) => `-${f}`)], description: 'Field to sort by; a leading `-` sorts descending' })),
    order: Type.Optional(StringEnum(['asc', 'desc'], { description: 'Sort direction' })),
  };
}

/** What each error status means; the document's `x-error-codes` lists the codes of each. */
const ERROR_STATUS: Record<number, string> = {
  400: 'The request is malformed, or combines its parameters wrongly; `error.param` names the field',
  401: 'The API key is missing, malformed, unknown, expired or revoked',
  403: "The key's role or scopes do not allow this, or a rule reserves it to others",
  404: 'Not found, or not yours',
  409: 'The current state of a resource does not allow this (a name taken, a running timer, a WIP limit)',
  412: 'The resource has changed since the ETag given in If-Match',
  413: 'The body is too large',
  415: 'The body is sent with a content type this operation does not take',
  422: "Well-formed, but breaks a rule about the request's meaning; `error.param` names the field",
  429: 'Rate limited; `Retry-After` says when to come back',
  503: 'The database timed out or could not be reached; retry later',
};

const errorRef = (status: number) =>
  Type.Unsafe<{ error: { code: string; message: string } }>({ $ref: 'Error#', description: `${ERROR_STATUS[status] ?? 'Error'} (codes: \`x-error-codes\`)` });

/** Error responses every authenticated route can give, plus the route's own. */
export function withErrors<R extends Record<number, TSchema>>(ok: R, ...extra: number[]) {
  const out: Record<number, TSchema> = { ...ok };
  // 503: the database timed out or was unreachable (error-handler.ts); retry later.
  for (const status of [400, 401, 403, 404, 413, 429, 503, ...extra]) out[status] = errorRef(status);
  return out as R & Record<number, TSchema>;
}

export const MUTATION_ERRORS = [409, 412, 415, 422];

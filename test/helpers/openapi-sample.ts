// Requests made from the OpenAPI document itself, for the sweeps that must cover every
// operation (tenancy, roles): a valid body from each operation's request schema.

/** The part of JSON Schema the document's schemas use. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  format?: string;
  pattern?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
  security?: unknown[];
}

export interface Doc {
  paths: Record<string, Record<string, Operation>>;
}

export const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Values for fields whose schema alone cannot say what is valid (a workflow status, a role). */
export type FieldValues = Record<string, () => unknown>;

/** Makes valid bodies: required fields, plus the well-known ones the caller gives values for. */
export class Sampler {
  constructor(private readonly values: FieldValues, private readonly optionalOnlyIfRequired: ReadonlySet<string> = new Set(['role'])) {}

  /** The operation's JSON body, or undefined when it takes none. */
  body(path: string, method: string, op: Operation): Record<string, unknown> | undefined {
    const schema = op.requestBody?.content?.['application/json']?.schema;
    return schema ? this.object(schema, `${method.toUpperCase()} ${path}`) : undefined;
  }

  object(schema: JsonSchema, where: string): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const [field, prop] of Object.entries(schema.properties ?? {})) {
      const required = schema.required?.includes(field) ?? false;
      const known = this.values[field];
      if (known && (required || !this.optionalOnlyIfRequired.has(field))) body[field] = known();
      else if (required) body[field] = this.value(prop, `${where} ${field}`);
    }
    return body;
  }

  value(s: JsonSchema, where: string): unknown {
    if (s.const !== undefined) return s.const;
    if (s.enum?.length) return s.enum[0];
    if (s.anyOf?.length) return this.value(s.anyOf[0]!, where);
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    if (type === 'string') {
      if (s.format === 'email') return `probe-${Math.random().toString(36).slice(2)}@example.test`;
      if (s.format) throw new Error(`${where}: cannot make a value of format ${s.format}; give the field a value`);
      return 'probe'.padEnd(Math.max(s.minLength ?? 1, 5), 'x').slice(0, s.maxLength ?? 100);
    }
    if (type === 'integer' || type === 'number') return Math.max(s.minimum ?? 1, 1);
    if (type === 'boolean') return false;
    if (type === 'array') return Array.from({ length: s.minItems ?? 0 }, () => this.value(s.items!, `${where}[]`));
    if (type === 'object') return this.object(s, where);
    throw new Error(`${where}: cannot make a value for ${JSON.stringify(s)}`);
  }
}

/** Every operation of the document, as [path, method, operation]. */
export function operations(doc: Doc): Array<[string, string, Operation]> {
  const out: Array<[string, string, Operation]> = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) if (METHODS.includes(method)) out.push([path, method, op]);
  }
  return out;
}

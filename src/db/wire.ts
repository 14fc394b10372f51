// PostgreSQL's wire protocol as both database sessions speak it: the embedded one (a worker thread,
// pglite-dialect.ts) and a server's (a socket, pg-wire.ts). Requests are encoded with pg-protocol's
// serializer; answers are decoded here, with node-postgres's type parsers (see decode()).
//
// A statement is one request: Parse once per session (then it is known by name), Bind with the
// parameters as text for the server to infer, Describe, Execute, Sync. Kysely emits the same text
// for the same query shape, so the names are few; preparing halves a primary-key select.
import { isAscii } from 'node:buffer';
import {
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pgUtils from 'pg/lib/utils.js';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import { textParser, type TextParser } from './pg-text.ts';

// Messages that never change, serialised once.
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});
export const SYNC = serialize.sync();
export const COMMIT = serialize.query('commit');
export const ROLLBACK = serialize.query('rollback');
const BEGIN = serialize.query('begin');

/** Past this many distinct statements, new ones run unnamed rather than growing a session's cache. */
export const MAX_PREPARED = 2000;

/** An error the database reported, with PostgreSQL's fields (code, constraint, …) as node-postgres gives them. */
export class DatabaseError extends Error {
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
  routine?: string;

  constructor(fields: Record<string, string | undefined>) {
    super(fields.message ?? 'database error');
    Object.assign(this, fields);
    this.name = 'DatabaseError';
  }
}

export interface StatementResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted, as the command tag reports them. */
  affectedRows: number | undefined;
}

const SPACE = 0x20;

/**
 * Reads the answer to a request: RowDescription, DataRow and CommandComplete directly, since they
 * are nearly all of it; anything else (ParseComplete, notices, ReadyForQuery) is skipped, and an
 * ErrorResponse is decoded by node-postgres's parser and thrown. Written here because pg-protocol
 * decodes each field with its own Buffer.toString call: a page of 25 tasks (450 fields) took 23 µs
 * that way, and 2.5 µs as one decode of the whole answer and a substring per field.
 *
 * That single decode is only right when all the text is ASCII. The first pass therefore notes
 * where each field is and blanks the binary parts around them (message headers, lengths, the row
 * description) in `bytes`, which must be the caller's to spoil; then one isAscii() over it decides,
 * and non-ASCII answers decode each field by itself.
 */
export function decode<R>(bytes: Buffer): StatementResult<R> {
  /** Per row: the column names and parsers in force, then (start, length) per field; length -1 is null. */
  const layout: number[] = [];
  const rowStarts: number[] = [];
  const rowColumns: Columns[] = [];
  let columns = NO_COLUMNS;
  let affectedRows: number | undefined;
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const code = bytes[offset]!;
    const end = offset + 1 + bytes.readUInt32BE(offset + 1);
    let at = offset + 5;
    switch (code) {
      case 0x54: {
        // RowDescription: count, then per field: name\0, table oid, column, type oid, size, modifier, format.
        const count = bytes.readUInt16BE(at);
        at += 2;
        const names = new Array<string>(count);
        const parsers = new Array<TextParser>(count);
        for (let i = 0; i < count; i++) {
          const nul = bytes.indexOf(0, at);
          names[i] = bytes.toString('utf8', at, nul);
          parsers[i] = textParser(bytes.readUInt32BE(nul + 7));
          at = nul + 19;
        }
        columns = { names, parsers, make: rowMaker(names) };
        bytes.fill(SPACE, offset, end);
        break;
      }
      case 0x44: {
        // DataRow: count, then per field: length (-1 for null) and the text.
        const count = bytes.readUInt16BE(at);
        bytes[at] = bytes[at + 1] = SPACE;
        at += 2;
        rowStarts.push(layout.length);
        rowColumns.push(columns);
        for (let i = 0; i < count; i++) {
          const length = bytes.readInt32BE(at);
          bytes[at] = bytes[at + 1] = bytes[at + 2] = bytes[at + 3] = SPACE;
          at += 4;
          layout.push(at, length);
          if (length > 0) at += length;
        }
        break;
      }
      case 0x43: {
        // CommandComplete: the tag, e.g. "INSERT 0 1" or "UPDATE 3".
        const tag = bytes.toString('latin1', at, end - 1).split(' ');
        const command = tag[0];
        if (command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE') {
          affectedRows = Number.parseInt(tag[tag.length - 1]!, 10);
        }
        break;
      }
      case 0x45:
        // Read before anything is blanked in it.
        throw databaseError(bytes.subarray(offset, end));
      default:
        // Every other message is blanked whole: some (notices, parameter status) carry text.
        bytes.fill(SPACE, offset, end);
        break;
    }
    if (code === 0x44 || code === 0x43) bytes[offset] = bytes[offset + 1] = bytes[offset + 2] = bytes[offset + 3] = bytes[offset + 4] = SPACE;
    offset = end;
  }
  const all = isAscii(bytes) ? bytes.toString('latin1') : undefined;
  const rows: R[] = new Array(rowStarts.length);
  for (let r = 0; r < rowStarts.length; r++) {
    const { names, parsers, make } = rowColumns[r]!;
    const values: unknown[] = new Array(names.length);
    let k = rowStarts[r]!;
    for (let i = 0; i < names.length; i++, k += 2) {
      const start = layout[k]!;
      const length = layout[k + 1]!;
      values[i] = length < 0 ? null : parsers[i]!(all !== undefined ? all.substring(start, start + length) : bytes.toString('utf8', start, start + length));
    }
    rows[r] = make(values) as R;
  }
  return { rows, affectedRows };
}

/**
 * Builds a row from its values with an object literal compiled once per column list, so that every
 * row of a result gets the same shape at once. Assigning the columns one by one by name was a
 * megamorphic keyed store per field: decoding a page of 25 tasks took 71–79 µs that way, 62 µs
 * this way. Names are quoted as JSON strings; `__proto__` is a computed key, which defines an own
 * property like any other column instead of setting the prototype.
 */
type RowMaker = (values: unknown[]) => Record<string, unknown>;
/** A row description: column names, their parsers, and the maker of its rows. */
interface Columns {
  names: string[];
  parsers: TextParser[];
  make: RowMaker;
}
const rowMakers = new Map<string, RowMaker>();
/** In force until an answer describes its rows (DataRow never comes before RowDescription). */
const NO_COLUMNS: Columns = { names: [], parsers: [], make: () => ({}) };

function rowMaker(names: string[]): RowMaker {
  const key = names.join('\0');
  let make = rowMakers.get(key);
  if (!make) {
    const props = names.map((n, i) => `${n === '__proto__' ? `[${JSON.stringify(n)}]` : JSON.stringify(n)}: v[${i}]`);
    make = new Function('v', `return { ${props.join(', ')} };`) as RowMaker;
    if (rowMakers.size < MAX_PREPARED) rowMakers.set(key, make);
  }
  return make;
}

/** The first ErrorResponse in `bytes` (whole messages), with all its fields, as node-postgres's parser reads them; undefined if none. */
export function findError(bytes: Buffer): DatabaseError | undefined {
  let error: Record<string, string | undefined> | undefined;
  new Parser().parse(bytes, (message: BackendMessage) => {
    // pg-protocol's message is an Error: its text is not among the enumerable fields.
    if (message.name === 'error') error ??= { ...(message as unknown as Record<string, string | undefined>), message: (message as unknown as Error).message };
  });
  return error ? new DatabaseError(error) : undefined;
}

function databaseError(bytes: Buffer): DatabaseError {
  return findError(bytes) ?? new DatabaseError({ message: 'the database reported an error that could not be read' });
}

/**
 * Sends a request and resolves with the whole answer, up to and including the `syncs`-th
 * ReadyForQuery, in a buffer decode() may write into. It must send before it returns: callers rely
 * on the order in which they called it.
 */
export type Transport = (parts: Buffer[], syncs: number) => Promise<Buffer>;

/** The statements one session has prepared, by their text; `max` 0 prepares none. */
export class PreparedStatements {
  readonly #names = new Map<string, string>();
  #next = 1;

  constructor(private readonly max = MAX_PREPARED) {}

  /**
   * Runs one statement, after `begin` (a transaction's first statement carries its BEGIN, which
   * then costs no request of its own), and decodes its answer.
   */
  async run<R>(send: Transport, sql: string, parameters: readonly unknown[], begin?: Buffer): Promise<StatementResult<R>> {
    let name = this.#names.get(sql);
    let fresh: string | undefined;
    const parts: Buffer[] = begin ? [begin] : [];
    if (name === undefined) {
      if (this.#names.size < this.max) {
        fresh = `sl${this.#next++}`;
        name = fresh;
      } else name = '';
      parts.push(serialize.parse({ text: sql, name }));
    }
    const values = parameters.map((v) => pgUtils.prepareValue(v) as string | null);
    parts.push(serialize.bind({ statement: name, values }), DESCRIBE_PORTAL, EXECUTE, SYNC);
    const bytes = await send(parts, begin ? 2 : 1);
    try {
      const result = decode<R>(bytes);
      // Recorded only once known good; a concurrent first use may prepare it again under another
      // name, which is harmless (and bounded by max).
      if (fresh && !this.#names.has(sql)) this.#names.set(sql, fresh);
      return result;
    } catch (err) {
      // The statement may have been prepared before binding or executing it failed; drop it so that
      // the name is never left behind half-known (Close is accepted even in an aborted transaction).
      if (fresh) void send([serialize.close({ type: 'S', name: fresh }), SYNC], 1).catch(() => {});
      throw err;
    }
  }
}

/** Runs SQL text (one or several statements, no parameters) in the simple protocol; throws the first error. */
export async function runSimple(send: Transport, sql: string | Buffer): Promise<StatementResult<unknown>> {
  return decode(await send([typeof sql === 'string' ? serialize.query(sql) : sql], 1));
}

/** The statement that begins a transaction with Kysely's settings, as a simple-protocol message. */
export function beginMessage(settings: TransactionSettings = {}): Buffer {
  if (!settings.isolationLevel && !settings.accessMode) return BEGIN;
  // Both come from Kysely's fixed vocabularies, never from input.
  const modes = [settings.isolationLevel && `isolation level ${settings.isolationLevel}`, settings.accessMode].filter(Boolean);
  return serialize.query(`start transaction ${modes.join(', ')}`);
}

export function queryResult<R>(result: StatementResult<R>): QueryResult<R> {
  return { rows: result.rows, numAffectedRows: result.affectedRows === undefined ? undefined : BigInt(result.affectedRows) };
}

// eslint-disable-next-line require-yield
export async function* noStreaming<R>(): AsyncIterableIterator<QueryResult<R>> {
  throw new Error('streaming query results is not supported');
}

/** Kysely's PostgreSQL dialect with one of the drivers here. */
export class WireDialect implements Dialect {
  constructor(private readonly driver: () => Driver) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return this.driver();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

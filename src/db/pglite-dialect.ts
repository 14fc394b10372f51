// A Kysely dialect over PGlite running in a worker thread (pglite-worker.mjs). Written here rather
// than taken from npm because the published dialects pin older PGlite releases and run it on the
// main thread, and because of the query path below.
//
// PGlite is one PostgreSQL session. The main thread speaks the wire protocol to it:
// - A statement is one batch (Parse once, then Bind, Describe, Execute, Sync) and one message to
//   the worker. PGlite's own query() makes six calls into the backend per statement to learn
//   parameter types; like node-postgres, this sends parameters as text and lets the server infer
//   them. Statements are prepared once under a name (Kysely emits the same text for the same
//   query shape), which halves a primary-key select.
// - Answers come back as raw bytes, decoded here (see decode()) with node-postgres's type parsers.
//   PGlite's own parser decoded every field with a separate TextDecoder call, about 1 µs a value.
// - Outside transactions, statements are pipelined: many can be queued in the worker at once, and
//   it runs them in order. A transaction owns the session from the moment it begins until its
//   COMMIT or ROLLBACK has been sent; statements of other requests wait for it, then follow.
//   BEGIN travels with the transaction's first statement, so it costs no message of its own.
import { isAscii } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import pgUtils from 'pg/lib/utils.js';
import { serialize } from 'pg-protocol';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';
import {
  type CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { textParser, type TextParser } from './pg-text.ts';

// Messages that never change, serialised once.
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});
const SYNC = serialize.sync();
const BEGIN = serialize.query('begin');

/** Past this many distinct statements, new ones run unnamed rather than growing the cache. */
const MAX_PREPARED = 2000;

/** An error the database reported, with PostgreSQL's fields (code, constraint, …) as node-postgres gives them. */
export class PGliteError extends Error {
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
    this.name = 'PGliteError';
  }
}

export interface StatementResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted, as the command tag reports them. */
  affectedRows: number | undefined;
}

const SPACE = 0x20;

/**
 * Reads the answer to one statement: RowDescription, DataRow and CommandComplete directly, since
 * they are nearly all of it; anything else is skipped, and an ErrorResponse is decoded by
 * node-postgres's parser and thrown. Written here because pg-protocol decodes each field with its
 * own Buffer.toString call: a page of 25 tasks (450 fields) took 23 µs that way, and 2.5 µs as one
 * decode of the whole answer and a substring per field.
 *
 * That single decode is only right when all the text is ASCII. The first pass therefore notes
 * where each field is and blanks the binary parts around them (message headers, lengths, the row
 * description) in the buffer, which is this function's own copy; then one isAscii() over the
 * buffer decides, and non-ASCII answers decode each field by itself.
 */
function decode<R>(bytes: Buffer): StatementResult<R> {
  /** Per row: the column names and parsers in force, then (start, length) per field; length -1 is null. */
  const layout: number[] = [];
  const rowStarts: number[] = [];
  const rowColumns: Array<{ names: string[]; parsers: TextParser[] }> = [];
  let columns: { names: string[]; parsers: TextParser[] } = { names: [], parsers: [] };
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
        columns = { names: new Array<string>(count), parsers: new Array<TextParser>(count) };
        for (let i = 0; i < count; i++) {
          const nul = bytes.indexOf(0, at);
          columns.names[i] = bytes.toString('utf8', at, nul);
          columns.parsers[i] = textParser(bytes.readUInt32BE(nul + 7));
          at = nul + 19;
        }
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
        break;
    }
    if (code !== 0x54) bytes[offset + 1] = bytes[offset + 2] = bytes[offset + 3] = bytes[offset + 4] = SPACE;
    offset = end;
  }
  const all = isAscii(bytes) ? bytes.toString('latin1') : undefined;
  const rows: R[] = new Array(rowStarts.length);
  for (let r = 0; r < rowStarts.length; r++) {
    const { names, parsers } = rowColumns[r]!;
    const row: Record<string, unknown> = {};
    let k = rowStarts[r]!;
    for (let i = 0; i < names.length; i++, k += 2) {
      const start = layout[k]!;
      const length = layout[k + 1]!;
      if (length < 0) row[names[i]!] = null;
      else row[names[i]!] = parsers[i]!(all !== undefined ? all.substring(start, start + length) : bytes.toString('utf8', start, start + length));
    }
    rows[r] = row as R;
  }
  return { rows, affectedRows };
}

/** The first ErrorResponse in an answer, with all its fields, as node-postgres's parser reads them. */
function databaseError(bytes: Buffer): PGliteError {
  let error: Record<string, string | undefined> | undefined;
  new Parser().parse(bytes, (message: BackendMessage) => {
    if (message.name === 'error') error ??= { ...(message as unknown as Record<string, string | undefined>) };
  });
  return new PGliteError(error ?? { message: 'the database reported an error that could not be read' });
}

/**
 * The parts of a request in memory of its own. Small Buffers are views of Node's shared 8 KiB
 * pool, and posting a view to a worker copies the whole pool; this one is transferred instead.
 */
function message(parts: Buffer[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

interface Reply {
  id: number;
  error?: Record<string, string | undefined>;
  /** The backend's answer to an exchange, in the pieces it wrote it in. */
  chunks?: Uint8Array[];
  tar?: ArrayBuffer;
}

export interface SessionOptions {
  dataDir?: string;
  loadDataDir?: Blob;
  /** The embedded database's thread died: nothing more can be read or written in this process. */
  onFatal?: (err: Error) => void;
}

/**
 * The main thread's side of the one PGlite session: sends work to the worker and schedules it.
 * `exclusive` work (a transaction, a script, a dump, closing) holds the session; other statements
 * are sent as soon as nobody holds it, without waiting for the ones before them to finish.
 */
export class PGliteSession {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #held = false;
  /** Waiting for the session, in arrival order: `true` entries want to hold it. */
  readonly #waiting: Array<{ exclusive: boolean; go: () => void }> = [];
  readonly #names = new Map<string, string>();
  #nextName = 1;
  #dead: Error | undefined;
  #closing = false;
  #closed = false;

  private constructor(worker: Worker, private readonly options: SessionOptions) {
    this.#worker = worker;
    worker.on('message', (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      // The worker failed to carry the request out (SQL errors are in the answer instead).
      if (reply.error) waiter.reject(new PGliteError(reply.error));
      else waiter.resolve(reply);
    });
    worker.on('error', (err) => this.#die(err));
    worker.on('exit', (code) => {
      if (!this.#closing) this.#die(new Error(`the embedded database's worker exited (code ${code})`));
    });
  }

  static async open(options: SessionOptions): Promise<PGliteSession> {
    const loadDataDir = options.loadDataDir ? new Uint8Array(await options.loadDataDir.arrayBuffer()) : undefined;
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dataDir: options.dataDir, loadDataDir },
      transferList: loadDataDir ? [loadDataDir.buffer] : [],
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; error?: Record<string, string> }) => {
        worker.off('error', reject);
        if (m.ready) resolve();
        else reject(new PGliteError(m.error ?? { message: 'the embedded database did not start' }));
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
    return new PGliteSession(worker, options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #die(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const waiter of this.#pending.values()) waiter.reject(err);
    this.#pending.clear();
    this.options.onFatal?.(err);
  }

  #send(op: string, payload: { bytes?: Uint8Array<ArrayBuffer>; sql?: string } = {}): Promise<Reply> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#closed || (this.#closing && op !== 'close')) return Promise.reject(new Error('the embedded database is closed'));
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // The bytes own their memory (see message()), so they move to the worker instead of being copied.
      this.#worker.postMessage({ id, op, ...payload }, payload.bytes ? [payload.bytes.buffer] : []);
    });
  }

  /** Waits until nobody holds the session, then holds it until `release()`. */
  async acquire(): Promise<void> {
    if (!this.#held && this.#waiting.length === 0) {
      this.#held = true;
      return;
    }
    await new Promise<void>((go) => this.#waiting.push({ exclusive: true, go }));
  }

  /**
   * Frees the session. Waiting statements are sent at once, in order, up to the next caller that
   * wants to hold the session, which gets it; since sending is synchronous, nothing it sends can
   * overtake them.
   */
  release(): void {
    this.#held = false;
    while (this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      if (next.exclusive) this.#held = true;
      next.go();
      if (next.exclusive) return;
    }
  }

  /** A statement outside any transaction: sent now, or as soon as the session is free. */
  statement<R>(sql: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
    if (!this.#held && this.#waiting.length === 0) return this.exchange<R>(sql, parameters);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ exclusive: false, go: () => void this.exchange<R>(sql, parameters).then(resolve, reject) });
    });
  }

  /**
   * Sends one statement (prefixed by BEGIN when `begin`) and decodes its answer. The message is
   * posted synchronously, before this returns; the caller has made sure it is its turn.
   */
  async exchange<R>(sql: string, parameters: readonly unknown[], begin = false): Promise<StatementResult<R>> {
    let name = this.#names.get(sql);
    let fresh: string | undefined;
    const parts: Buffer[] = begin ? [BEGIN] : [];
    if (name === undefined) {
      if (this.#names.size < MAX_PREPARED) {
        fresh = `sl${this.#nextName++}`;
        name = fresh;
      } else name = '';
      parts.push(serialize.parse({ text: sql, name }));
    }
    const values = parameters.map((v) => pgUtils.prepareValue(v) as string | null);
    parts.push(serialize.bind({ statement: name, values }), DESCRIBE_PORTAL, EXECUTE, SYNC);
    const { chunks = [] } = await this.#send('exchange', { bytes: message(parts) });
    // decode() writes into the answer: it must be a copy of its own, which each chunk is.
    const bytes = chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : Buffer.concat(chunks);
    try {
      const result = decode<R>(bytes);
      // Recorded only once known good; a concurrent first use may prepare it again under another
      // name, which is harmless (and bounded by MAX_PREPARED).
      if (fresh && !this.#names.has(sql)) this.#names.set(sql, fresh);
      return result;
    } catch (err) {
      // The statement may have been prepared before binding or executing it failed; drop it so that
      // the name is never left behind half-known (Close is accepted even in an aborted transaction).
      if (fresh) void this.#send('exchange', { bytes: message([serialize.close({ type: 'S', name: fresh }), SYNC]) }).catch(() => {});
      throw err;
    }
  }

  /** Runs work that needs the whole session (scripts, dumps) once every earlier statement is done. */
  async #exclusiveOp(op: 'script' | 'dump' | 'close', sql?: string): Promise<Reply> {
    await this.acquire();
    try {
      return await this.#send(op, sql === undefined ? {} : { sql });
    } finally {
      this.release();
    }
  }

  /** A multi-statement SQL script in one simple-protocol call (migrations, vacuum). */
  async script(sql: string): Promise<void> {
    await this.#exclusiveOp('script', sql);
  }

  async dump(): Promise<Blob> {
    const reply = await this.#exclusiveOp('dump');
    return new Blob([reply.tar!]);
  }

  /** Checkpoints and closes the database, then ends the worker. */
  async close(): Promise<void> {
    if (this.#closing || this.#dead) return;
    this.#closing = true;
    await this.#exclusiveOp('close');
    this.#closed = true;
    await this.#worker.terminate();
  }
}

class PGliteConnection implements DatabaseConnection {
  /** This connection holds the session for a transaction. */
  inTransaction = false;
  /** A transaction was begun but nothing sent yet: BEGIN travels with the first statement. */
  pendingBegin = false;

  constructor(private readonly session: PGliteSession) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    let result: StatementResult<R>;
    if (this.inTransaction) {
      const begin = this.pendingBegin;
      this.pendingBegin = false;
      result = await this.session.exchange<R>(compiled.sql, compiled.parameters, begin);
    } else {
      result = await this.session.statement<R>(compiled.sql, compiled.parameters);
    }
    return { rows: result.rows, numAffectedRows: result.affectedRows === undefined ? undefined : BigInt(result.affectedRows) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported on the embedded database');
  }
}

class PGliteDriver implements Driver {
  constructor(private readonly session: PGliteSession) {}

  async init(): Promise<void> {}

  // Each use gets its own connection object: they share the one session, and only transactions hold it.
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.session);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as PGliteConnection;
    await this.session.acquire();
    c.inTransaction = true;
    c.pendingBegin = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as PGliteConnection, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as PGliteConnection, 'rollback');
  }

  /**
   * Sends COMMIT or ROLLBACK and frees the session at once: whatever is sent next runs after it.
   * The caller still waits for the answer. A transaction that never sent a statement never began.
   */
  async #end(c: PGliteConnection, command: 'commit' | 'rollback'): Promise<void> {
    if (!c.inTransaction) return;
    c.inTransaction = false;
    if (c.pendingBegin) {
      c.pendingBegin = false;
      this.session.release();
      return;
    }
    const done = this.session.exchange(command, []);
    this.session.release();
    await done;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    // Kysely always ends a transaction before releasing; should one ever be left open, end it.
    const c = connection as PGliteConnection;
    if (c.inTransaction) await this.#end(c, 'rollback');
  }

  async destroy(): Promise<void> {
    // The owner of the session closes it (after a checkpoint); see database.ts.
  }
}

export class PGliteDialect implements Dialect {
  constructor(private readonly session: PGliteSession) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.session);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

// A Kysely dialect over PGlite running in a worker thread (pglite-worker.mjs). Written here rather
// than taken from npm because the published dialects pin older PGlite releases and run it on the
// main thread, and because of the query path below.
//
// PGlite is one PostgreSQL session. The main thread speaks the wire protocol to it (wire.ts): a
// statement is one request and one message to the worker, and its answer comes back as raw bytes.
// PGlite's own query() makes six calls into the backend per statement to learn parameter types,
// and its parser decoded every field with a separate TextDecoder call, about 1 µs a value.
// - Outside transactions, statements are pipelined: many can be queued in the worker at once, and
//   it runs them in order. A transaction owns the session from the moment it begins until its
//   COMMIT or ROLLBACK has been sent; statements of other requests wait for it, then follow.
//   BEGIN travels with the transaction's first statement, so it costs no message of its own.
import { Worker } from 'node:worker_threads';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import {
  beginMessage,
  COMMIT,
  DatabaseError,
  noStreaming,
  PreparedStatements,
  queryResult,
  ROLLBACK,
  runSimple,
  WireDialect,
  type StatementResult,
  type Transport,
} from './wire.ts';

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
  readonly #statements = new PreparedStatements();
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
      if (reply.error) waiter.reject(new DatabaseError(reply.error));
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
        else reject(new DatabaseError({ ...m.error, message: `the embedded database did not start in ${options.dataDir ?? 'memory'}: ${m.error?.message ?? 'no reason given'}` }));
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

  /** Posts a request to the worker (synchronously, before it returns) and joins the answer's chunks. */
  readonly #transport: Transport = async (parts) => {
    const { chunks = [] } = await this.#send('exchange', { bytes: message(parts) });
    // decode() writes into the answer: it must be a copy of its own, which each chunk is.
    return chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : Buffer.concat(chunks);
  };

  /**
   * Sends one statement (after `begin`, a transaction's BEGIN) and decodes its answer. The request
   * is posted synchronously, before this returns; the caller has made sure it is its turn.
   */
  exchange<R>(sql: string, parameters: readonly unknown[], begin?: Buffer): Promise<StatementResult<R>> {
    return this.#statements.run<R>(this.#transport, sql, parameters, begin);
  }

  /** Ends the transaction that holds the session (sent synchronously, like exchange()). */
  async end(command: 'commit' | 'rollback'): Promise<void> {
    await runSimple(this.#transport, command === 'commit' ? COMMIT : ROLLBACK);
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
  /** A transaction was begun but nothing sent yet: its BEGIN travels with the first statement. */
  pendingBegin: Buffer | undefined;

  constructor(private readonly session: PGliteSession) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    let result: StatementResult<R>;
    if (this.inTransaction) {
      const begin = this.pendingBegin;
      this.pendingBegin = undefined;
      result = await this.session.exchange<R>(compiled.sql, compiled.parameters, begin);
    } else {
      result = await this.session.statement<R>(compiled.sql, compiled.parameters);
    }
    return queryResult(result);
  }

  streamQuery = noStreaming;
}

class PGliteDriver implements Driver {
  #session: PGliteSession | undefined;

  constructor(private readonly opening: Promise<PGliteSession>) {}

  private get session(): PGliteSession {
    if (!this.#session) throw new Error('the embedded database is not open');
    return this.#session;
  }

  /** Kysely calls this before the first query: statements wait here until the worker is ready. */
  async init(): Promise<void> {
    this.#session = await this.opening;
  }

  // Each use gets its own connection object: they share the one session, and only transactions hold it.
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.session);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as PGliteConnection;
    await this.session.acquire();
    c.inTransaction = true;
    c.pendingBegin = beginMessage(settings);
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
      c.pendingBegin = undefined;
      this.session.release();
      return;
    }
    const done = this.session.end(command);
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

export class PGliteDialect extends WireDialect {
  /** `session` may still be opening; queries wait for it. */
  constructor(session: Promise<PGliteSession>) {
    super(() => new PGliteDriver(session));
  }
}

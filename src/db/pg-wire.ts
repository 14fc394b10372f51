// A Kysely dialect for a PostgreSQL server that speaks the wire protocol itself (wire.ts) over
// sockets that node-postgres opened. node-postgres does the connecting: TLS, every authentication
// method, the connection string and its options. Once a session is ready, its socket is taken over.
//
// Why not node-postgres for the queries too: its answer path was most of the server's own CPU on
// a task page. It decodes every field with its own Buffer.toString call, builds a result object
// per query (field descriptions, per-query parser lookups), copies each query's config, and its
// pool arms an idle timer on every release. Measured with the filtered-list benchmark on
// PostgreSQL (2 cores, same run): 1,200–1,280 lists/s through node-postgres, 1,520–1,790 this way.
//
// The pool below shares sessions between plain reads and gives one to each transaction or write
// (see WirePool).
import type { Duplex } from 'node:stream';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import type pg from 'pg';
import {
  beginMessage,
  COMMIT,
  DatabaseError,
  findError,
  MAX_PREPARED,
  noStreaming,
  PreparedStatements,
  queryResult,
  ROLLBACK,
  runSimple,
  type StatementResult,
  type Transport,
} from './wire.ts';

const READY_FOR_QUERY = 0x5a;

/**
 * Reads queued on one shared session before another is opened. Measured with the filtered-list
 * benchmark at 32 connections (2 cores): one or two sessions kept busy used 250–330 µs of server
 * CPU a list, ten sessions woken for one read each 350–430 µs, and served 10–30% fewer lists.
 */
const PIPELINE_DEPTH = 16;
const HEADER = 5;

interface Waiting {
  /** ReadyForQuery messages that end this request's answer. */
  syncs: number;
  seen: number;
  resolve: (answer: Buffer) => void;
  reject: (err: Error) => void;
}

/**
 * One server session. Requests may be written back to back; answers are cut out of the byte
 * stream in the same order, each ending with its request's last ReadyForQuery.
 */
export class WireSession {
  readonly statements: PreparedStatements;
  readonly #socket: Duplex;
  readonly #client: pg.Client;
  readonly #waiting: Waiting[] = [];
  /** Received bytes not yet handed out: the start of the answer being read. */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Where the next message header is in those bytes, and how many bytes are needed to read on. */
  #scan = 0;
  #need = HEADER;
  #dead: Error | undefined;

  constructor(client: pg.Client, socket: Duplex, prepare: boolean, onClose: (session: WireSession) => void) {
    this.#client = client;
    this.#socket = socket;
    this.statements = new PreparedStatements(prepare ? undefined : 0);
    // node-postgres reads the socket through this listener; from now on, this session does.
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.once('close', () => {
      this.#fail(new DatabaseError({ code: '08006', message: 'the connection to the database was closed' }));
      onClose(this);
    });
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Requests written whose answers have not all arrived. */
  get outstanding(): number {
    return this.#waiting.length;
  }

  /**
   * See Transport. A request to an idle session is written at once; one sent while answers are
   * outstanding joins the others sent in the same turn of the event loop, and they go out in one
   * write just after it (setImmediate). Each write is a system call that wakes the server's
   * backend; joined, 10,000 GET /v1/tasks/:id at 32 connections took 7,257 writes instead of
   * 10,172, and 5,000 filtered lists 4,097 instead of 5,282 (strace -c). Order is kept: requests
   * and their answers stay first in, first out.
   */
  readonly send: Transport = (parts, syncs) => {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise<Buffer>((resolve, reject) => {
      const idle = this.#waiting.length === 0 && this.#unsent.length === 0;
      this.#waiting.push({ syncs, seen: 0, resolve, reject });
      if (idle) {
        this.#socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        return;
      }
      for (const part of parts) this.#unsent.push(part);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  };

  /** Requests sent while others were in flight, not yet written. */
  #unsent: Buffer[] = [];
  #flushScheduled = false;

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#unsent.length === 0 || this.#dead) return;
    const parts = this.#unsent;
    this.#unsent = [];
    this.#socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  };

  #receive(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    // Most answers arrive in one chunk; a long one is joined once, when it is complete enough to read on.
    if (this.#length < this.#need) return;
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    let start = 0;
    let at = this.#scan;
    for (;;) {
      if (at + HEADER > bytes.length) {
        this.#need = at + HEADER;
        break;
      }
      const end = at + 1 + bytes.readUInt32BE(at + 1);
      if (end > bytes.length) {
        this.#need = end;
        break;
      }
      if (bytes[at] === READY_FOR_QUERY) {
        const head = this.#waiting[0];
        if (!head) {
          // An answer nobody asked for: the session can no longer be trusted.
          this.#socket.destroy();
          return;
        }
        if (++head.seen === head.syncs) {
          this.#waiting.shift();
          // Each answer is its own slice: decode() writes into it, never past it.
          head.resolve(bytes.subarray(start, end));
          start = end;
        }
      }
      at = end;
    }
    if (start === bytes.length) {
      this.#chunks = [];
      this.#length = 0;
    } else {
      this.#chunks = [start === 0 ? bytes : bytes.subarray(start)];
      this.#length = bytes.length - start;
    }
    this.#scan = at - start;
    this.#need -= start;
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    // The server usually says why before it closes (shutdown, terminated by an administrator).
    const said = this.#length > 0 ? findError(Buffer.concat(this.#chunks).subarray(0, this.#scan)) : undefined;
    this.#dead = said ?? err;
    for (const w of this.#waiting.splice(0)) w.reject(this.#dead);
  }

  /** Says goodbye to the server and closes the socket. */
  async end(): Promise<void> {
    if (this.#dead) return;
    // Requests not yet written go before the goodbye, so that they are answered.
    this.#flush();
    await this.#client.end().catch(() => {});
  }
}

/**
 * A plain read outside a transaction: it takes no row locks and waits for none, so it may queue
 * behind other statements on a shared session without ever waiting on a transaction that waits
 * on it. (A select that locks rows or calls a locking function is not one.)
 */
export function isPlainRead(sql: string): boolean {
  let plain = plainReads.get(sql);
  if (plain === undefined) {
    plain = classify(sql);
    // Bounded like the prepared statements: past it, statements are classified each time.
    if (plainReads.size < MAX_PREPARED) plainReads.set(sql, plain);
  }
  return plain;
}

/** Kysely emits the same text for the same query shape, so a statement is classified once. */
const plainReads = new Map<string, boolean>();

function classify(sql: string): boolean {
  return /^\s*select\b/i.test(sql) && !/\bfor\s+(update|no\s+key\s+update|share|key\s+share)\b|\bpg_(advisory|sleep|try_advisory)|\b(nextval|setval)\s*\(/i.test(sql);
}

/**
 * The sessions of one instance, opened as needed up to `max` and kept open until the pool ends.
 * A session is either taken by one user (a transaction, a write, a locked read) until released,
 * or shared: plain reads (isPlainRead) are written to the shared session with the fewest answers
 * outstanding, back to back, and their answers read in order. Requests queued at a busy backend
 * are served without it going to sleep in between, and a read needs no session of its own.
 */
export class WirePool {
  readonly #sessions: WireSession[] = [];
  readonly #taken = new Set<WireSession>();
  readonly #waiting: Array<{ resolve: (s: WireSession) => void; reject: (e: Error) => void }> = [];
  readonly #readers: Array<{ resolve: (s: WireSession) => void; reject: (e: Error) => void }> = [];
  /** Sessions being opened. */
  #opening = 0;
  #ended = false;

  constructor(
    private readonly open: (onClose: (s: WireSession) => void) => Promise<WireSession>,
    private readonly max: number,
  ) {}

  /** The shared session with the fewest answers outstanding. */
  #leastBusy(): WireSession | undefined {
    let best: WireSession | undefined;
    for (const s of this.#sessions) if (!this.#taken.has(s) && (!best || s.outstanding < best.outstanding)) best = s;
    return best;
  }

  get #canOpen(): boolean {
    return this.#sessions.length + this.#opening < this.max;
  }

  /** Runs a plain read on a shared session. */
  async read<R>(sql: string, parameters: readonly unknown[]): Promise<StatementResult<R>> {
    if (this.#ended) throw new Error('the database pool has been closed');
    let session = this.#leastBusy();
    if ((!session || session.outstanding >= PIPELINE_DEPTH) && this.#canOpen) {
      session = await this.#connect();
    } else if (!session) {
      session = await new Promise<WireSession>((resolve, reject) => this.#readers.push({ resolve, reject }));
    }
    return session.statements.run<R>(session.send, sql, parameters);
  }

  /** Takes a session for one user until release(): an idle shared one, a new one, or the next one released. */
  async acquire(): Promise<WireSession> {
    if (this.#ended) throw new Error('the database pool has been closed');
    const shared = this.#leastBusy();
    let session: WireSession;
    if (shared && (shared.outstanding === 0 || !this.#canOpen)) session = shared;
    else if (this.#canOpen) session = await this.#connect();
    else session = await new Promise<WireSession>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#taken.add(session);
    return session;
  }

  async #connect(): Promise<WireSession> {
    this.#opening++;
    try {
      const session = await this.open((s) => this.#closed(s));
      this.#sessions.push(session);
      return session;
    } finally {
      this.#opening--;
    }
  }

  /**
   * Takes a session back. Reads waiting for one are written to it first; then it goes to the next
   * user waiting (whose statements queue behind them), or becomes shared.
   */
  release(session: WireSession): void {
    if (!this.#taken.delete(session) || session.dead) return;
    if (this.#ended) {
      void session.end();
      return;
    }
    for (const reader of this.#readers.splice(0)) reader.resolve(session);
    const next = this.#waiting.shift();
    if (next) {
      this.#taken.add(session);
      next.resolve(session);
    }
  }

  #closed(session: WireSession): void {
    const i = this.#sessions.indexOf(session);
    if (i < 0) return;
    this.#sessions.splice(i, 1);
    this.#taken.delete(session);
    // Someone is waiting for a session that will not come back: open another in its place.
    if (this.#ended || (this.#waiting.length === 0 && this.#readers.length === 0)) return;
    this.#connect().then(
      (s) => {
        this.#taken.add(s);
        this.release(s);
      },
      (err: Error) => {
        for (const w of this.#waiting.splice(0)) w.reject(err);
        // With no session left to free up, reads would wait for ever.
        if (this.#sessions.length === 0) for (const r of this.#readers.splice(0)) r.reject(err);
      },
    );
  }

  async end(): Promise<void> {
    this.#ended = true;
    const closed = new Error('the database pool has been closed');
    for (const w of [...this.#waiting.splice(0), ...this.#readers.splice(0)]) w.reject(closed);
    await Promise.all(this.#sessions.filter((s) => !this.#taken.has(s)).map((s) => s.end()));
  }
}

/**
 * Opens a session with node-postgres, then takes its socket over. `connection.stream` is
 * node-postgres's socket (the TLS one when TLS is on); the whole test suite runs on this path.
 */
export async function openWireSession(config: pg.ClientConfig, prepare: boolean, onClose: (s: WireSession) => void): Promise<WireSession> {
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client(config);
  // Errors on the socket end the session; its close handler reports them to whoever waits.
  client.on('error', () => {});
  await client.connect();
  const socket = (client as unknown as { connection: { stream: Duplex } }).connection.stream;
  return new WireSession(client, socket, prepare, onClose);
}

class WireConnection implements DatabaseConnection {
  /** The session this connection has taken: for a transaction, or a statement that is not a plain read. */
  session: WireSession | undefined;
  /** A transaction was begun but nothing sent yet: its BEGIN travels with the first statement. */
  pendingBegin: Buffer | undefined;
  inTransaction = false;

  constructor(readonly pool: WirePool) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.session && isPlainRead(compiled.sql)) return queryResult(await this.pool.read<R>(compiled.sql, compiled.parameters));
    this.session ??= await this.pool.acquire();
    const begin = this.pendingBegin;
    this.pendingBegin = undefined;
    return queryResult(await this.session.statements.run<R>(this.session.send, compiled.sql, compiled.parameters, begin));
  }

  streamQuery = noStreaming;
}

export class WireDriver implements Driver {
  constructor(private readonly pool: WirePool) {}

  async init(): Promise<void> {}

  // A connection takes a session only when it needs one of its own (see WireConnection).
  async acquireConnection(): Promise<DatabaseConnection> {
    return new WireConnection(this.pool);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as WireConnection;
    c.session ??= await this.pool.acquire();
    c.inTransaction = true;
    c.pendingBegin = beginMessage(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as WireConnection, COMMIT);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as WireConnection, ROLLBACK);
  }

  /** A transaction that never sent a statement never began: nothing to end. */
  async #end(c: WireConnection, command: Buffer): Promise<void> {
    c.inTransaction = false;
    if (c.pendingBegin || !c.session) {
      c.pendingBegin = undefined;
      return;
    }
    await runSimple(c.session.send, command);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as WireConnection;
    // Kysely always ends a transaction before releasing; should one ever be left open, end it.
    if (c.inTransaction) await this.#end(c, ROLLBACK).catch(() => {});
    if (c.session) this.pool.release(c.session);
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}


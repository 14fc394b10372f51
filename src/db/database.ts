import { Kysely, sql } from 'kysely';
import type { WireSession } from './pg-wire.ts';
import { installTypeParsers } from './pg-text.ts';
import type { SessionOptions } from './pglite-dialect.ts';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;

/** One switch between the embedded database and a PostgreSQL server; everything above sees Kysely. */
export interface Database {
  kind: 'pglite' | 'postgres';
  db: Db;
  /** Runs a multi-statement SQL script on one session (migrations). */
  runScript(sql: string): Promise<void>;
  /** Runs `fn` with a session-level advisory lock held (migrations, bootstrap). */
  withLock<T>(lockId: number, fn: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /**
   * Embedded only: PGlite runs no autovacuum, so the server does its work. Vacuums and analyzes
   * once enough has been written since the last run (or a little, and it has been a while), so
   * that index-only scans keep working and plans follow the data. Returns what it did.
   */
  housekeep?(now?: number): Promise<{ vacuumed: boolean; walBytes: number; ms: number }>;
  close(): Promise<void>;
  /** Embedded only: the whole data directory as a tarball (test templates, backups). */
  snapshot?(): Promise<Blob>;
}

export type PgliteOptions = SessionOptions;

/**
 * How much must have been written (measured as write-ahead log, which every write path produces,
 * whatever statement or cascade made it) before housekeeping vacuums at once; and, once at least
 * VACUUM_MIN_WAL_BYTES have been, the longest it waits. A task create writes about 2 KiB.
 */
export const VACUUM_AFTER_WAL_BYTES = 4 * 1024 * 1024;
export const VACUUM_MIN_WAL_BYTES = 64 * 1024;
export const VACUUM_AFTER_MS = 15 * 60 * 1000;

/**
 * Returns as soon as the embedded database's worker has been started, before it is ready (a
 * second or so): queries wait for it, and a failure to open rejects each of them. The caller
 * can meanwhile do work of its own (main.ts builds the app), which took about half a second off
 * every cold start.
 */
export async function openPglite(options: PgliteOptions): Promise<Database> {
  // Each driver is imported only when used: loading both would slow every cold start.
  const { PGliteDialect, PGliteSession } = await import('./pglite-dialect.ts');
  const opening = PGliteSession.open(options);
  // Its failure is reported by every query (the migrations come first), not as an unhandled rejection.
  opening.catch(() => {});
  const db = new Kysely<DB>({ dialect: new PGliteDialect(opening) });
  const walPosition = async () => Number((await sql<{ bytes: string }>`select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text as bytes`.execute(db)).rows[0]!.bytes);
  // Where the log was at open: what was written before was the previous process's to vacuum.
  const openedAt = walPosition().then(
    (wal) => ({ wal, time: Date.now() }),
    () => undefined,
  );
  let vacuumedAt: { wal: number; time: number } | undefined;
  return {
    kind: 'pglite',
    db,
    runScript: async (text) => (await opening).script(text),
    // One process owns the embedded database (see datadir-lock.ts), so a process-wide lock suffices.
    async withLock(_lockId, fn) {
      return fn();
    },
    async ping() {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    },
    async housekeep(now = Date.now()) {
      const session = await opening;
      if (session.closed) return { vacuumed: false, walBytes: 0, ms: 0 };
      vacuumedAt ??= (await openedAt) ?? { wal: await walPosition(), time: now };
      const walBytes = (await walPosition()) - vacuumedAt.wal;
      const due = walBytes >= VACUUM_AFTER_WAL_BYTES || (walBytes >= VACUUM_MIN_WAL_BYTES && now - vacuumedAt.time >= VACUUM_AFTER_MS);
      if (!due) return { vacuumed: false, walBytes, ms: 0 };
      const started = performance.now();
      await session.script('vacuum (analyze)');
      // Measured after the vacuum, whose own log must not count as the next run's reason.
      vacuumedAt = { wal: await walPosition(), time: now };
      return { vacuumed: true, walBytes, ms: performance.now() - started };
    },
    snapshot: async () => (await opening).dump(),
    close: async () => {
      const session = await opening.catch(() => undefined);
      await session?.close();
    },
  };
}

export async function openPostgres(url: string, statementTimeoutMs: number, max = 10, prepare = true): Promise<Database> {
  const { openWireSession, WireDriver, WirePool } = await import('./pg-wire.ts');
  const { runSimple, ROLLBACK, WireDialect } = await import('./wire.ts');
  installTypeParsers();
  // Statements are prepared once per session (see wire.ts): measured on a primary-key select, 63 µs
  // of server CPU instead of 123. A server-side pooler that cannot keep prepared statements
  // (PgBouncer in transaction mode before 1.21) needs SPRINTLANE_DB_PREPARE=false.
  const config = {
    connectionString: url,
    // UTC and ISO dates on every session, as on the embedded database: results never depend on
    // the server's configuration. Prepared statements keep their generic plan: in the default
    // `auto` mode PostgreSQL plans a LIMIT query again on every execution, which was half of the
    // server's CPU for a task page (283 µs a page, 147 µs with the generic plan).
    //
    // JIT is off: generic plans are costed without their parameters (a LIMIT of unknown size,
    // say), which put the change feed's page query over jit_above_cost, and compiling it took
    // 250-300 ms of a 15 ms query on every execution. Nothing here runs long enough to gain from it.
    options:
      `-c statement_timeout=${statementTimeoutMs} -c lock_timeout=${statementTimeoutMs} -c TimeZone=UTC -c DateStyle=ISO -c jit=off` +
      (prepare ? ' -c plan_cache_mode=force_generic_plan' : ''),
  };
  const pool = new WirePool((onClose) => openWireSession(config, prepare, onClose), max);
  const db = new Kysely<DB>({ dialect: new WireDialect(() => new WireDriver(pool)) });
  /** Runs `fn` on a session of its own. */
  const withSession = async <T>(fn: (session: WireSession) => Promise<T>): Promise<T> => {
    const session = await pool.acquire();
    try {
      return await fn(session);
    } finally {
      pool.release(session);
    }
  };
  return {
    kind: 'postgres',
    db,
    runScript: (script) =>
      withSession(async ({ send }) => {
        try {
          await runSimple(send, script);
        } catch (err) {
          // A script that began a transaction and failed in it leaves it open.
          await runSimple(send, ROLLBACK).catch(() => {});
          throw err;
        }
      }),
    withLock: (lockId, fn) =>
      withSession(async ({ statements, send }) => {
        await statements.run(send, 'select pg_advisory_lock($1)', [lockId]);
        try {
          return await fn();
        } finally {
          await statements.run(send, 'select pg_advisory_unlock($1)', [lockId]);
        }
      }),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

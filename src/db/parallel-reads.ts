import { sql } from 'kysely';
import type { Db } from './database.ts';

/** What pg_export_snapshot() returns, e.g. 00000003-0000001B-1. */
const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/**
 * Runs reads on sessions of their own at once (PostgreSQL runs each on a core of its own), all in
 * one snapshot of the database: the first read's transaction exports its snapshot and the others
 * import it (SET TRANSACTION SNAPSHOT), so that together they see exactly what one statement
 * would have seen, even while other sessions write. Reads must not write.
 *
 * Only for a PostgreSQL server: the embedded database has one session, on which this would run the
 * reads one after another.
 */
export async function readInParallel<T>(db: Db, reads: ReadonlyArray<(db: Db) => Promise<T>>): Promise<T[]> {
  const snapshotted = () => db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only');
  if (reads.length <= 1) return Promise.all(reads.map((read) => read(db)));
  return snapshotted().execute(async (first) => {
    const { rows } = await sql<{ id: string }>`select pg_export_snapshot() as id`.execute(first);
    const id = rows[0]!.id;
    if (!SNAPSHOT_ID.test(id)) throw new Error(`unexpected snapshot id ${JSON.stringify(id)}`);
    // The exporting transaction stays open until every other has imported its snapshot and read.
    return Promise.all([
      reads[0]!(first),
      ...reads.slice(1).map((read) =>
        snapshotted().execute(async (tx) => {
          await sql`set transaction snapshot ${sql.lit(id)}`.execute(tx);
          return read(tx);
        }),
      ),
    ]);
  });
}

/**
 * Lets a few reads at a time be split over several sessions (readInParallel); the others, and
 * all of them on the embedded database, run whole on one. A split read holds one session while
 * it waits for the next, so that at most (pool size - 1) / width run at once: some session is
 * always free for the others, and two split reads can never wait on each other.
 */
export class ParallelReads {
  #inFlight = 0;
  readonly #atOnce: number;

  /** `width`: sessions per split read (1: never split). */
  constructor(
    readonly width: number,
    poolSize: number,
  ) {
    this.#atOnce = width > 1 ? Math.floor((poolSize - 1) / width) : 0;
  }

  /** `split(parts)` gives the reads whose results together make the answer, in `parts` pieces. */
  async run<T>(db: Db, split: (parts: number) => ReadonlyArray<(db: Db) => Promise<T>>): Promise<T[]> {
    if (this.#inFlight >= this.#atOnce) return Promise.all(split(1).map((read) => read(db)));
    this.#inFlight++;
    try {
      return await readInParallel(db, split(this.width));
    } finally {
      this.#inFlight--;
    }
  }
}

import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * A transaction-scoped advisory lock on a name. Used where a value is derived by reading what is
 * taken and then inserting (slugs, usernames): two concurrent derivations would otherwise pick the
 * same value and one would fail with a conflict the client did not cause.
 */
export async function lockName(tx: Db, name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(tx);
}

import { sql } from 'kysely';
import { inTransaction } from '../db/after-commit.ts';
import type { Db } from '../db/database.ts';

/** The advisory lock that makes one sequencer run at a time, across every instance. */
const SEQUENCER_LOCK = 0x5e9_0001;
/** Events given positions per transaction; a larger backlog takes several. */
const BATCH = 10_000;

/**
 * Gives the next positions in the change feed to the events of finished transactions (see the
 * event_feed migration for why), in order of seq: one batch, in a transaction holding the
 * sequencer's lock, so that batches commit one after another and each numbers on from the last.
 * Returns how many events it placed; 0 when another instance holds the lock (that one is doing
 * the same work) or when nothing is waiting.
 */
export async function sequenceEvents(db: Db): Promise<number> {
  return inTransaction(db, async (tx) => {
    const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${SEQUENCER_LOCK}) as ok`.execute(tx);
    if (!rows[0]?.ok) return 0;
    // A transaction below the snapshot's xmin has finished: its events, if it committed, are all
    // visible now, and no event can appear later with a smaller xid.
    const { rows: placed } = await sql<{ n: string }>`
      with ready as (
        select seq, row_number() over (order by seq) as n
        from (select seq from events where position is null and tx < pg_snapshot_xmin(pg_current_snapshot()) order by seq limit ${BATCH}) s
      ), top as (
        select last_position as p from event_feed_state
      ), placed as (
        update events set position = top.p + ready.n from ready, top where events.seq = ready.seq returning 1
      )
      -- Nothing is written when nothing was placed: the job runs every second on an idle server.
      update event_feed_state set last_position = last_position + (select count(*) from placed)
      where exists (select 1 from placed)
      returning (select count(*) from placed)::text as n`.execute(tx);
    return Number(placed[0]?.n ?? 0);
  });
}

/** Places every waiting event (several batches if need be). */
export async function sequenceAll(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const placed = await sequenceEvents(db);
    total += placed;
    if (placed < BATCH) return total;
  }
}

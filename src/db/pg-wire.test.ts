// Which statements may queue on a shared PostgreSQL session (see WirePool): only reads that can
// never wait on a lock a transaction holds.
import { describe, expect, it } from 'vitest';
import { isPlainRead } from './pg-wire.ts';

describe('isPlainRead', () => {
  it.each([
    'select * from "tasks" where "id" = $1',
    '  SELECT count(*) from tasks',
    'select tasks.*, (select count(*)::int from tasks where project_id = $1) as total from tasks limit $2',
  ])('counts a plain select as a read: %s', (sql) => {
    expect(isPlainRead(sql)).toBe(true);
  });

  it.each([
    'select * from "tasks" where "id" = $1 for update',
    'select * from projects where id = $1 FOR NO KEY UPDATE',
    'select * from projects for share',
    'select * from projects for key share',
    'select pg_advisory_lock($1)',
    'select pg_try_advisory_xact_lock(1)',
    'select pg_sleep(1)',
    "select nextval('s')",
    'with moved as (update tasks set status = $1 returning *) select * from moved',
    'update tasks set status = $1',
    'insert into tasks (id) values ($1)',
    'show plan_cache_mode',
  ])('does not count a statement that may lock or write as a read: %s', (sql) => {
    expect(isPlainRead(sql)).toBe(false);
    // Classified once, the same on the next use.
    expect(isPlainRead(sql)).toBe(false);
  });
});

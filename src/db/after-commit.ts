import type { Db } from './database.ts';

const hooks = new WeakMap<Db, Array<() => void>>();

/** Runs `fn` once the transaction `tx` has committed (cache invalidation that must not run early). */
export function afterCommit(tx: Db, fn: () => void): void {
  const list = hooks.get(tx);
  if (list) list.push(fn);
  else hooks.set(tx, [fn]);
}

/** Runs `work` in a transaction, then its after-commit hooks. */
export async function inTransaction<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  let txRef: Db | undefined;
  const result = await db.transaction().execute((tx) => {
    txRef = tx;
    return work(tx);
  });
  const list = txRef ? hooks.get(txRef) : undefined;
  if (list) for (const fn of list) fn();
  return result;
}

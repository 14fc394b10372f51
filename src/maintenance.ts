import type { Deps } from './deps.ts';

const EVERY_MS = 10 * 60 * 1000;

/**
 * Periodic housekeeping: expired Idempotency-Key records are deleted (lookups already ignore them,
 * so this only bounds the table's size). Safe with several instances: the delete is idempotent.
 */
export function startMaintenance(deps: Deps): { stop(): void } {
  const run = async () => {
    const result = await deps.database.db.deleteFrom('idempotency_keys').where('expires_at', '<', deps.clock.now()).executeTakeFirst();
    const removed = Number(result.numDeletedRows ?? 0);
    if (removed > 0) deps.logger.debug({ removed }, 'expired idempotency keys removed');
  };
  const timer = setInterval(() => {
    run().catch((err: unknown) => deps.logger.warn({ err }, 'maintenance failed'));
  }, EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

import type { Deps } from './deps.ts';
import { sequenceAll } from './events/sequencer.ts';

const EXPIRE_EVERY_MS = 10 * 60 * 1000;
const HOUSEKEEP_EVERY_MS = 60 * 1000;
const AUTO_STOP_EVERY_MS = 60 * 1000;
const SEQUENCE_EVERY_MS = 1000;
const SWEEP_FILES_EVERY_MS = 60 * 60 * 1000;
const EXPIRING_EVERY_MS = 10 * 60 * 1000;

/**
 * Periodic housekeeping: expired Idempotency-Key records are deleted (lookups already ignore them,
 * so this only bounds the table's size; safe with several instances, the delete is idempotent),
 * the embedded database is vacuumed when enough has changed (PostgreSQL has autovacuum), and
 * timers left running past their workspace's maximum are stopped at it (every minute, and once at
 * start; safe with several instances, see TimeEntryService.autoStopOverdue), and committed events
 * get their places in the change feed within a second even when nobody reads it (one sequencer at
 * a time across instances, see events/sequencer.ts), and every hour attachment files that no row
 * names any more (failed uploads, tasks deleted with their project) are removed; every ten
 * minutes (and at start) keys that expire within 7 days get their key.expiring event (once, safe
 * with several instances: see ApiKeyService.notifyExpiring); every hour, finished webhook
 * deliveries older than their 30 days of redelivery are removed with their attempts.
 */
export function startMaintenance(deps: Deps): { stop(): void } {
  const expire = async () => {
    const result = await deps.database.db.deleteFrom('idempotency_keys').where('expires_at', '<', deps.clock.now()).executeTakeFirst();
    const removed = Number(result.numDeletedRows ?? 0);
    if (removed > 0) deps.logger.debug({ removed }, 'expired idempotency keys removed');
  };
  const housekeep = async () => {
    const done = await deps.database.housekeep?.();
    if (done?.vacuumed) deps.logger.debug({ wal_bytes: done.walBytes, ms: Math.round(done.ms) }, 'embedded database vacuumed');
  };
  const autoStop = async () => {
    const stopped = await deps.services.timeEntries.autoStopOverdue();
    if (stopped > 0) deps.logger.info({ stopped }, 'timers past their workspace maximum stopped');
  };
  const autoStopFailed = (err: unknown) => deps.logger.warn({ err }, 'stopping overdue timers failed');
  void autoStop().catch(autoStopFailed);
  const expiring = async () => {
    const noticed = await deps.services.apiKeys.notifyExpiring();
    if (noticed > 0) deps.logger.info({ noticed }, 'key.expiring events written for keys that expire within 7 days');
  };
  const expiringFailed = (err: unknown) => deps.logger.warn({ err }, 'writing key.expiring events failed');
  void expiring().catch(expiringFailed);
  const sequence = async () => {
    const placed = await sequenceAll(deps.database.db);
    if (placed > 0) deps.logger.debug({ placed }, 'events placed in the change feed');
  };
  const sweepFiles = async () => {
    const removed = await deps.services.attachments.sweep();
    if (removed > 0) deps.logger.info({ removed }, 'attachment files without an attachment removed');
  };
  const pruneDeliveries = async () => {
    const removed = await deps.services.webhooks.pruneDeliveries();
    if (removed > 0) deps.logger.debug({ removed }, 'finished webhook deliveries past their 30 days removed');
  };
  const timers = [
    setInterval(() => void pruneDeliveries().catch((err: unknown) => deps.logger.warn({ err }, 'removing old webhook deliveries failed')), SWEEP_FILES_EVERY_MS),
    setInterval(() => void sweepFiles().catch((err: unknown) => deps.logger.warn({ err }, 'sweeping attachment files failed')), SWEEP_FILES_EVERY_MS),
    setInterval(() => void sequence().catch((err: unknown) => deps.logger.warn({ err }, 'placing events in the change feed failed')), SEQUENCE_EVERY_MS),
    setInterval(() => void autoStop().catch(autoStopFailed), AUTO_STOP_EVERY_MS),
    setInterval(() => void expiring().catch(expiringFailed), EXPIRING_EVERY_MS),
    setInterval(() => void expire().catch((err: unknown) => deps.logger.warn({ err }, 'maintenance failed')), EXPIRE_EVERY_MS),
    setInterval(() => void housekeep().catch((err: unknown) => deps.logger.warn({ err }, 'vacuum failed')), HOUSEKEEP_EVERY_MS),
  ];
  for (const t of timers) t.unref();
  return { stop: () => timers.forEach((t) => clearInterval(t)) };
}

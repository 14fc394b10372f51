import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { inTransaction } from '../db/after-commit.ts';
import type { Database, Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { sha256Base64Url } from '../lib/crypto.ts';
import { AppError, errors } from './errors.ts';

const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

export interface MutationOptions {
  /** The response carries a secret shown once: it is not stored, so a replay answers 409. */
  containsSecret?: boolean;
  /**
   * The work is atomic by itself (one statement, or its own transaction where it needs one), so
   * without an Idempotency-Key it runs without a transaction around it: two round trips fewer.
   */
  atomic?: boolean;
}

export type Mutate = <T>(
  request: FastifyRequest,
  reply: FastifyReply,
  /** The status of the response, or a function that tells it from the work's result. */
  status: number | ((result: T) => number),
  work: (tx: Db) => Promise<T>,
  options?: MutationOptions,
) => Promise<T>;

/**
 * Runs a write as one transaction (or, for work marked `atomic`, as it is, unless an
 * Idempotency-Key needs a transaction). With an Idempotency-Key, the key's record is written in that
 * same transaction: the same key and body within 24 hours replays the stored response without
 * doing the work again; another body is a 422; a retry while the first still runs is a 409.
 */
export function makeMutate(database: Database, clock: Clock): Mutate {
  return async (request, reply, status, work, options = {}) => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || request.method === 'DELETE') {
      const result = options.atomic ? await work(database.db) : await inTransaction(database.db, work);
      void reply.code(typeof status === 'function' ? status(result) : status);
      return result;
    }
    if (typeof key !== 'string' || !KEY_SHAPE.test(key)) {
      throw errors.badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters', 'Idempotency-Key', 'INVALID_IDEMPOTENCY_KEY');
    }
    const credential = request.principal?.keyId ?? 'anonymous';
    const route = `${request.method} ${request.url.split('?')[0]}`;
    const fingerprint = sha256Base64Url(`${request.url.split('?')[1] ?? ''}\n${JSON.stringify(request.body ?? null)}`);

    const outcome = await inTransaction(database.db, async (tx) => {
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtextextended(${`${credential} ${route} ${key}`}, 0)) as ok`.execute(tx);
      if (!lock.rows[0]?.ok) {
        throw new AppError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed', 'Idempotency-Key');
      }
      const now = clock.now();
      const existing = await tx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('credential_id', '=', credential)
        .where('route', '=', route)
        .where('key', '=', key)
        .executeTakeFirst();
      if (existing && new Date(existing.expires_at) > now) {
        if (existing.request_hash !== fingerprint) {
          throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body', 'Idempotency-Key');
        }
        return { replay: existing };
      }
      if (existing) {
        await tx.deleteFrom('idempotency_keys').where('credential_id', '=', credential).where('route', '=', route).where('key', '=', key).execute();
      }
      const body = await work(tx);
      await tx
        .insertInto('idempotency_keys')
        .values({
          credential_id: credential,
          route,
          key,
          request_hash: fingerprint,
          status_code: typeof status === 'function' ? status(body) : status,
          response_body: options.containsSecret ? '' : JSON.stringify(body),
          response_headers: JSON.stringify(options.containsSecret ? { 'x-secret-omitted': '1' } : {}),
          created_at: now,
          expires_at: new Date(now.getTime() + KEY_TTL_MS),
        })
        .execute();
      return { body };
    });

    if ('replay' in outcome && outcome.replay) {
      const stored = outcome.replay;
      if (stored.response_headers['x-secret-omitted']) {
        throw new AppError(
          409,
          'IDEMPOTENCY_KEY_REPLAY_UNAVAILABLE',
          'The original response contained a secret that is shown only once; it was created and is not replayed',
          'Idempotency-Key',
        );
      }
      void reply.code(stored.status_code).header('idempotent-replayed', 'true');
      return JSON.parse(stored.response_body) as never;
    }
    const body = (outcome as { body: never }).body;
    void reply.code(typeof status === 'function' ? status(body) : status);
    return body;
  };
}

// Delivering webhooks. The dispatcher fans the change feed out into deliveries, in feed order and
// in one transaction with its position, so every event reaches every subscriber exactly once as a
// delivery row (whatever crashes). Workers on every instance claim due deliveries (FOR UPDATE SKIP
// LOCKED, then a lease), send them outside any transaction, and record the attempts in batches: a
// slow receiver holds at most its endpoint's share of the slots (one while it is failing), never
// the others', and never a database session.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import ipaddr from 'ipaddr.js';
import { Agent, request, type Dispatcher } from 'undici';
import { inTransaction } from '../../db/after-commit.ts';
import type { Db } from '../../db/database.ts';
import { recordEvent } from '../../events/event.repository.ts';
import { sequenceAll } from '../../events/sequencer.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import type { SecretBox } from '../../lib/secret-box.ts';
import { presentEvent } from '../events/feed.service.ts';
import { signatureHeader } from './signature.ts';
import type { WebhookTargets } from './webhook-targets.ts';
import { presentWebhookEvent } from './webhook.presenter.ts';
import { webhookRepository, type ClaimedDelivery, type SettleOutcome } from './webhook.repository.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** The wait after each failed attempt: the first attempt is immediate, then 7 retries. */
export const RETRY_DELAYS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
/** An endpoint whose every attempt has failed for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * HOUR;
/** Bytes of a response read (the rest is not waited for), and the part of them kept in the log. */
const READ_BYTES = 64 * 1024;
const EXCERPT_CHARS = 1024;
/** The longest Retry-After honoured (a longer one waits this long). */
const MAX_RETRY_AFTER_MS = 24 * HOUR;
/** Events fanned out per dispatcher transaction. */
const DISPATCH_BATCH = 500;
const IDLE_POLL_MS = 250;
/** Attempts recorded per transaction at most. */
const SETTLE_BATCH = 200;

export interface WebhookWorkerDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  box: SecretBox;
  targets: WebhookTargets;
  timeoutMs: number;
  /** Deliveries this instance sends at once; 0: this instance delivers nothing. */
  concurrency: number;
  /** Deliveries in flight to one endpoint at most (1 while it is failing). */
  endpointConcurrency: number;
  userAgent: string;
  onError: (err: unknown, what: string) => void;
  /** The jitter of a retry: a factor around 1 (tests fix it). */
  jitter?: () => number;
}

/** What an attempt came to. */
export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  excerpt: string | null;
  error: string | null;
  retryAfterMs: number | null;
}

function retryAfter(value: string | string[] | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v.trim()) * SECOND, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'timeout: the receiver took too long';
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return `${code ? `${code}: ` : ''}${message}`.slice(0, 500);
}

/**
 * A transaction of the worker's own bookkeeping (claims and attempts), committed without waiting
 * for the disk: should the database stop within the moment before its log is flushed, what is lost
 * is only that bookkeeping, and the delivery is sent again with the same webhook-id (receivers
 * deduplicate on it: Standard Webhooks promises at-least-once delivery). The fan-out is not
 * bookkeeping: a delivery row, whose id is the webhook-id, must be on disk before it is sent, or a
 * lost one would be made again under a new id. On PostgreSQL every commit otherwise waits for an
 * fsync, two for each round of deliveries (measured with bench/webhooks.ts).
 */
function bookkeeping<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await sql`set local synchronous_commit = off`.execute(tx);
    return work(tx);
  });
}

export class WebhookWorker {
  private readonly agent: Dispatcher;
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  private stopped = true;
  private refilling = false;
  /** Slots a claim in progress will fill (so two claims at once never take more than the free slots). */
  private reserved = 0;
  /** Attempts made and not yet recorded; one transaction records every one waiting (see settle). */
  private readonly unsettled: Array<{ d: ClaimedDelivery; r: AttemptResult; done: (err?: unknown) => void }> = [];
  private settling = false;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.agent = new Agent({
      // Every address a name resolves to is checked when connecting (DNS rebinding).
      connect: { lookup: deps.targets.lookup, timeout: deps.timeoutMs },
      headersTimeout: deps.timeoutMs,
      bodyTimeout: deps.timeoutMs,
      keepAliveTimeout: 10 * SECOND,
    });
  }

  start(): void {
    if (this.deps.concurrency === 0) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
    await this.agent.close();
  }

  /** Something is due now (a new event, a ping, a redelivery): work without waiting for the poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.ticking = true;
    let backlog = false;
    try {
      await sequenceAll(this.deps.db);
      // A full batch leaves more to fan out: the next tick follows at once.
      backlog = (await this.dispatch()) === DISPATCH_BATCH;
      await this.pump();
    } catch (err) {
      this.deps.onError(err, 'webhook delivery');
    } finally {
      this.ticking = false;
    }
    if (this.stopped) return;
    const now = this.again || backlog;
    this.again = false;
    this.schedule(now ? 0 : IDLE_POLL_MS);
  }

  /**
   * Fans the next events of the feed out into deliveries, one per subscribed webhook, and moves
   * the dispatcher's position past them, in one transaction. Returns how many events it read.
   */
  async dispatch(): Promise<number> {
    return inTransaction(this.deps.db, async (tx) => {
      const repo = webhookRepository(tx);
      const events = await repo.eventsToDispatch(DISPATCH_BATCH);
      if (events.length === 0) return 0;
      const subscribers = await repo.subscribers(events);
      if (subscribers.length > 0) {
        const now = this.deps.clock.now();
        const byId = new Map(events.map((e) => [e.id, e]));
        const payloads = new Map<string, string>();
        const payloadOf = (eventId: string) => {
          let p = payloads.get(eventId);
          if (p === undefined) payloads.set(eventId, (p = JSON.stringify(presentEvent(byId.get(eventId)!))));
          return p;
        };
        await repo.insertDeliveries(
          subscribers.map((s) => ({
            id: this.deps.ids.next('msg'),
            webhook_id: s.webhook_id,
            event_id: s.event_id,
            event_type: byId.get(s.event_id)!.type,
            payload: payloadOf(s.event_id),
            status: 'pending' as const,
            next_attempt_at: now,
            lease_until: null,
            created_at: now,
            updated_at: now,
          })),
        );
      }
      await repo.setDispatched(events.at(-1)!.position);
      return events.length;
    });
  }

  /** Claims due deliveries for the free slots and starts sending them. Returns how many it started. */
  async pump(): Promise<number> {
    const free = this.deps.concurrency - this.inFlight - this.reserved;
    if (free <= 0) return 0;
    this.reserved += free;
    let claimed: ClaimedDelivery[];
    try {
      const now = this.deps.clock.now();
      const leaseUntil = new Date(now.getTime() + this.deps.timeoutMs + 30 * SECOND);
      claimed = await bookkeeping(this.deps.db, (tx) => webhookRepository(tx).claim(now, leaseUntil, free, this.deps.endpointConcurrency));
    } finally {
      this.reserved -= free;
    }
    for (const d of claimed) {
      this.inFlight += 1;
      const p = this.deliver(d)
        .catch((err: unknown) => this.deps.onError(err, 'webhook delivery'))
        .finally(() => {
          this.inFlight -= 1;
          this.running.delete(p);
          this.refill();
        });
      this.running.add(p);
    }
    return claimed.length;
  }

  /**
   * A slot came free: claims the next due deliveries, once for every settle batch (the slots a
   * batch frees are refilled by one claim). Fanning new events out waits for the next tick.
   */
  private refill(): void {
    if (this.stopped || this.refilling) return;
    this.refilling = true;
    queueMicrotask(() => {
      this.refilling = false;
      if (this.stopped) return;
      // Held in `running` like a delivery, so drain() and stop() wait for the claim as well.
      const p: Promise<void> = this.pump()
        .then(() => undefined, (err: unknown) => this.deps.onError(err, 'webhook delivery'))
        .finally(() => this.running.delete(p));
      this.running.add(p);
    });
  }

  /** For tests and shutdown: dispatches and delivers until nothing is due now. */
  async drain(): Promise<void> {
    await sequenceAll(this.deps.db);
    while ((await this.dispatch()) > 0);
    for (;;) {
      const started = await this.pump();
      if (started === 0 && this.running.size === 0) return;
      await Promise.race([...this.running]);
    }
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const now = this.deps.clock.now();
    const secrets = [this.deps.box.open(d.secret_sealed)];
    if (d.previous_secret_sealed && d.previous_secret_expires_at && d.previous_secret_expires_at > now) secrets.push(this.deps.box.open(d.previous_secret_sealed));
    const result = await this.send(d.url, d.id, Math.floor(now.getTime() / 1000), d.payload, secrets);
    await new Promise<void>((resolve, reject) => {
      this.unsettled.push({ d, r: result, done: (err) => (err === undefined ? resolve() : reject(err)) });
      void this.flush();
    });
  }

  /**
   * Records the attempts waiting, one batch per transaction, while any wait. With many fast
   * deliveries in flight, one transaction settles all that finished while the last one ran, in a
   * fixed number of statements, rather than a transaction of four statements each: on the embedded
   * database every statement waits its turn on the one session the API's writes use too. A batch
   * that fails leaves its deliveries leased: they are sent again (same webhook-id) when it ends.
   */
  private async flush(): Promise<void> {
    if (this.settling) return;
    this.settling = true;
    try {
      while (this.unsettled.length > 0) {
        const batch = this.unsettled.splice(0, SETTLE_BATCH);
        try {
          await this.settle(batch);
          for (const b of batch) b.done();
        } catch (err) {
          for (const b of batch) b.done(err);
        }
      }
    } finally {
      this.settling = false;
    }
  }

  /** One POST: signed, not redirected, cut off after the timeout, its response read up to 64 KiB. */
  async send(url: string, id: string, timestamp: number, body: string, secrets: string[]): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    // A literal address is never looked up, so the connect-time check is made here.
    const forbidden = ipaddr.isValid(host) ? this.deps.targets.forbidden(host) : undefined;
    if (forbidden) return { statusCode: null, durationMs: 0, excerpt: null, error: `ETARGETFORBIDDEN: ${host} ${forbidden}`, retryAfterMs: null };
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.deps.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': this.deps.userAgent,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(secrets, id, timestamp, body),
        },
        body,
      });
      const chunks: Buffer[] = [];
      let read = 0;
      try {
        for await (const chunk of res.body) {
          chunks.push(chunk as Buffer);
          read += (chunk as Buffer).length;
          if (read >= READ_BYTES) break;
        }
      } catch {
        // A body cut short still leaves the status, which is what counts.
      }
      res.body.destroy();
      const text = Buffer.concat(chunks).subarray(0, READ_BYTES).toString('utf8');
      return {
        statusCode: res.statusCode,
        durationMs: elapsed(),
        excerpt: text.length > 0 ? text.slice(0, EXCERPT_CHARS) : null,
        error: null,
        retryAfterMs: res.statusCode === 429 || res.statusCode === 503 ? retryAfter(res.headers['retry-after'], Date.now()) : null,
      };
    } catch (err) {
      return { statusCode: null, durationMs: elapsed(), excerpt: null, error: describe(err), retryAfterMs: null };
    }
  }

  /**
   * Records attempts and decides what follows each: done, a retry on the schedule, or disabling
   * the endpoint (410 at once; 5 days of nothing but failures).
   */
  private async settle(batch: Array<{ d: ClaimedDelivery; r: AttemptResult }>): Promise<void> {
    const jitter = this.deps.jitter ?? (() => 0.9 + Math.random() * 0.2);
    await bookkeeping(this.deps.db, async (tx) => {
      const repo = webhookRepository(tx);
      const now = this.deps.clock.now();
      const outcomes: SettleOutcome[] = [];
      // Per endpoint, in the order the attempts ended: whether the last one succeeded, whether
      // any did (failing then started within this batch), and whether one was answered 410.
      const endpoints = new Map<string, { lastOk: boolean; anyOk: boolean; gone: boolean }>();
      for (const { d, r } of batch) {
        const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
        const e = endpoints.get(d.webhook_id) ?? { lastOk: false, anyOk: false, gone: false };
        endpoints.set(d.webhook_id, e);
        if (ok) {
          outcomes.push({ id: d.id, status: 'succeeded', next: null });
          e.lastOk = e.anyOk = true;
          continue;
        }
        if (r.statusCode === 410) {
          outcomes.push({ id: d.id, status: 'failed', next: null });
          e.gone = true;
          continue;
        }
        e.lastOk = false;
        const delay = RETRY_DELAYS_MS[d.attempts];
        if (delay === undefined) outcomes.push({ id: d.id, status: 'failed', next: null });
        else outcomes.push({ id: d.id, status: 'pending', next: new Date(now.getTime() + Math.max(Math.round(delay * jitter()), r.retryAfterMs ?? 0)) });
      }
      await repo.recordAttempts(
        batch.map(({ d, r }) => ({ delivery_id: d.id, attempted_at: now, status_code: r.statusCode, duration_ms: r.durationMs, response_excerpt: r.excerpt, error: r.error })),
      );
      await repo.settleMany(outcomes, now);

      const recovered: string[] = [];
      const failing: string[] = [];
      const failingAnew: string[] = [];
      const gone: string[] = [];
      for (const [id, e] of endpoints) {
        if (e.gone) gone.push(id);
        else if (e.lastOk) recovered.push(id);
        else if (e.anyOk) failingAnew.push(id);
        else failing.push(id);
      }
      for (const id of await repo.markFailing({ recovered, failing, failingAnew }, now, new Date(now.getTime() - DISABLE_AFTER_MS))) {
        await this.disable(tx, id, 'failing', now);
      }
      for (const id of gone) await this.disable(tx, id, 'gone', now);
    });
  }

  /** Disables the endpoint and records webhook.disabled, once. */
  private async disable(tx: Db, webhookId: string, reason: 'gone' | 'failing', now: Date): Promise<void> {
    const w = await tx
      .updateTable('webhooks')
      .set({ active: false, disabled_reason: reason, updated_at: now, version: (eb) => eb('version', '+', 1) })
      .where('id', '=', webhookId)
      .where('active', '=', true)
      .returningAll()
      .executeTakeFirst();
    if (!w) return;
    await recordEvent(tx, this.deps.ids, { userId: null, keyId: null }, {
      workspaceId: w.workspace_id,
      projectId: w.project_id,
      type: 'webhook.disabled',
      resourceType: 'webhook',
      resourceId: w.id,
      data: presentWebhookEvent(w),
      changes: { active: { from: true, to: false }, disabled_reason: { from: null, to: reason } },
    });
  }
}

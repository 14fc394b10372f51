// Delivering webhooks. The dispatcher fans the change feed out into deliveries, in feed order and
// in one transaction with its position, so every event reaches every subscriber exactly once as a
// delivery row (whatever crashes). Workers on every instance claim due deliveries (FOR UPDATE SKIP
// LOCKED, then a lease), send them outside any transaction, and record each attempt: a slow
// receiver holds one of this instance's slots, never the others, and never a database session.
import { performance } from 'node:perf_hooks';
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
import { webhookRepository, type ClaimedDelivery } from './webhook.repository.ts';

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

export interface WebhookWorkerDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  box: SecretBox;
  targets: WebhookTargets;
  timeoutMs: number;
  /** Deliveries this instance sends at once; 0: this instance delivers nothing. */
  concurrency: number;
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

export class WebhookWorker {
  private readonly agent: Dispatcher;
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  private stopped = true;

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
    let busy = false;
    try {
      await sequenceAll(this.deps.db);
      while ((await this.dispatch()) === DISPATCH_BATCH) busy = true;
      busy = (await this.pump()) > 0 || busy;
    } catch (err) {
      this.deps.onError(err, 'webhook delivery');
    } finally {
      this.ticking = false;
    }
    if (this.stopped) return;
    const now = this.again || busy;
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
    const free = this.deps.concurrency - this.inFlight;
    if (free <= 0) return 0;
    const now = this.deps.clock.now();
    const leaseUntil = new Date(now.getTime() + this.deps.timeoutMs + 30 * SECOND);
    const claimed = await webhookRepository(this.deps.db).claim(now, leaseUntil, free);
    for (const d of claimed) {
      this.inFlight += 1;
      const p = this.deliver(d)
        .catch((err: unknown) => this.deps.onError(err, 'webhook delivery'))
        .finally(() => {
          this.inFlight -= 1;
          this.running.delete(p);
          this.wake();
        });
      this.running.add(p);
    }
    return claimed.length;
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
    await this.settle(d, result);
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

  /** Records the attempt and decides what follows: done, a retry on the schedule, or disabling the endpoint. */
  private async settle(d: ClaimedDelivery, r: AttemptResult): Promise<void> {
    await inTransaction(this.deps.db, async (tx) => {
      const repo = webhookRepository(tx);
      const now = this.deps.clock.now();
      await repo.recordAttempt({ delivery_id: d.id, attempted_at: now, status_code: r.statusCode, duration_ms: r.durationMs, response_excerpt: r.excerpt, error: r.error });
      const ok = r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300;
      if (ok) {
        await repo.settle(d.id, { status: 'succeeded', next: null }, now);
        await tx.updateTable('webhooks').set({ failing_since: null }).where('id', '=', d.webhook_id).where('failing_since', 'is not', null).execute();
        return;
      }
      const attempt = d.attempts + 1;
      if (r.statusCode === 410) {
        await repo.settle(d.id, { status: 'failed', next: null }, now);
        await this.disable(tx, d.webhook_id, 'gone', now);
        return;
      }
      const delay = RETRY_DELAYS_MS[attempt - 1];
      if (delay === undefined) {
        await repo.settle(d.id, { status: 'failed', next: null }, now);
      } else {
        const wait = Math.max(Math.round(delay * (this.deps.jitter ?? (() => 0.9 + Math.random() * 0.2))()), r.retryAfterMs ?? 0);
        await repo.settle(d.id, { status: 'pending', next: new Date(now.getTime() + wait) }, now);
      }
      await tx.updateTable('webhooks').set({ failing_since: now }).where('id', '=', d.webhook_id).where('failing_since', 'is', null).execute();
      const failingSince = new Date(now.getTime() - DISABLE_AFTER_MS);
      const stale = await tx.selectFrom('webhooks').select('id').where('id', '=', d.webhook_id).where('active', '=', true).where('failing_since', '<=', failingSince).executeTakeFirst();
      if (stale) await this.disable(tx, d.webhook_id, 'failing', now);
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

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** What an instance forgets from its key cache. */
export interface Forgetting {
  forgetKey(keyId: string): void;
  forgetUser(userId: string): void;
  forgetAll(): void;
}

interface Message {
  from: string;
  kind: 'key' | 'user' | 'all';
  id?: string;
}

/**
 * Tells every instance sharing a Redis what to forget from its key cache (a revoked key, a user
 * whose memberships changed, everything after a plan change), so that a revocation holds on the
 * very next request wherever it lands, not once the cache expires. Each message is published
 * before the response that reports the change is sent. An instance that lost Redis for a while
 * may have missed messages: it forgets everything once it is back.
 */
export class AuthBus implements Forgetting {
  readonly #id = randomUUID();
  readonly #channel: string;
  readonly #subscriber: Redis;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly local: Forgetting,
    private readonly logger: Logger,
  ) {
    this.#channel = `${prefix}auth`;
    this.#subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.#subscriber.on('error', () => {
      // Logged by the main client; the subscriber reconnects by itself and subscribes again.
    });
    let connected = false;
    this.#subscriber.on('ready', () => {
      if (connected) local.forgetAll();
      connected = true;
    });
    this.#subscriber.subscribe(this.#channel).catch((err: unknown) => logger.warn({ err }, 'could not subscribe to key revocations'));
    this.#subscriber.on('message', (_channel: string, raw: string) => this.receive(raw));
  }

  private receive(raw: string): void {
    let m: Message;
    try {
      m = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (m.from === this.#id) return;
    if (m.kind === 'key' && m.id) this.local.forgetKey(m.id);
    else if (m.kind === 'user' && m.id) this.local.forgetUser(m.id);
    else if (m.kind === 'all') this.local.forgetAll();
  }

  private publish(kind: Message['kind'], id?: string): void {
    const message: Message = { from: this.#id, kind, id };
    // Without Redis the others notice when their cache entry expires (SPRINTLANE_AUTH_CACHE_MS).
    this.redis.publish(this.#channel, JSON.stringify(message)).catch((err: unknown) => this.logger.warn({ err }, 'could not tell the other instances to forget a key'));
  }

  forgetKey(keyId: string): void {
    this.local.forgetKey(keyId);
    this.publish('key', keyId);
  }

  forgetUser(userId: string): void {
    this.local.forgetUser(userId);
    this.publish('user', userId);
  }

  forgetAll(): void {
    this.local.forgetAll();
    this.publish('all');
  }

  close(): void {
    this.#subscriber.disconnect();
  }
}

import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniformly random base62 string (rejection sampling keeps it unbiased). */
export function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export type IdPrefix = 'ws' | 'proj' | 'task' | 'user' | 'mem' | 'key' | 'evt' | 'spr' | 'wh' | 'req' | 'lbl' | 'sts' | 'cmt' | 'att' | 'msg';

export interface Ids {
  next(prefix: IdPrefix): string;
  uuid(): string;
}

export const randomIds: Ids = {
  next: (prefix) => `${prefix}_${base62(16)}`,
  uuid: () => randomUUID(),
};

/** A prefixed id's shape; a path id of the wrong shape is a 404 without a query. */
export function looksLikeId(prefix: IdPrefix, value: string): boolean {
  return value.length <= 64 && value.startsWith(`${prefix}_`) && /^[A-Za-z0-9]+$/.test(value.slice(prefix.length + 1));
}

import { createHash } from 'node:crypto';
import { base62 } from './ids.ts';

/** Prefix of every generated API key, so secret scanners can recognise a leaked one. */
export const KEY_PREFIX = 'slk_';
const BODY_LENGTH = 36;
const CHECK_LENGTH = 6;

function checksum(body: string): string {
  // Six base62 characters of a SHA-256 over the body: a typo or truncation is caught
  // without touching the database.
  const digest = createHash('sha256').update(body).digest();
  let n = digest.readUInt32BE(0) * 0x10000 + digest.readUInt16BE(4);
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < CHECK_LENGTH; i++) {
    out += alphabet[n % 62];
    n = Math.floor(n / 62);
  }
  return out;
}

/** A new API key secret: `slk_` + 36 random base62 characters + 6-character checksum. */
export function generateKeySecret(): string {
  const body = base62(BODY_LENGTH);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** Public pattern for secret scanners. */
export const KEY_PATTERN = /^slk_[0-9A-Za-z]{42}$/;

/**
 * Whether a presented secret could be a key at all. Generated keys carry a checksum; the
 * operator-chosen bootstrap token (SPRINTLANE_ADMIN_TOKEN) only has to match its documented shape.
 */
export function plausibleSecret(secret: string): boolean {
  if (secret.startsWith(KEY_PREFIX)) {
    if (!KEY_PATTERN.test(secret)) return false;
    const body = secret.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH);
    return checksum(body) === secret.slice(KEY_PREFIX.length + BODY_LENGTH);
  }
  return /^[A-Za-z0-9_]{32,256}$/.test(secret);
}

/** Keys are high-entropy random strings, so a fast hash is safe and keeps lookups cheap. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sha256Base64Url(data: string): string {
  return createHash('sha256').update(data).digest('base64url');
}


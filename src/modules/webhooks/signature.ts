// Signing per the Standard Webhooks specification (https://www.standardwebhooks.com): the
// signature of a message is v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">.
// Written here because it is three lines over node:crypto; the tests verify every delivery with
// the `standardwebhooks` package itself.
import { createHmac, randomBytes } from 'node:crypto';

/** A new secret in the Standard Webhooks format: whsec_ and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The HMAC key of a secret: a whsec_ secret's base64 bytes, any other secret's UTF-8 bytes. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` header: one signature per secret, separated by spaces (rotation). */
export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => `v1,${createHmac('sha256', keyOf(s)).update(`${id}.${timestamp}.${body}`).digest('base64')}`).join(' ');
}

import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { errors } from './errors.ts';

/** The ETag of a versioned resource's plain representation; If-Match compares against this. */
export function versionEtag(version: number): string {
  return `"v${version}"`;
}

function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean);
}

/** 412 unless If-Match is absent, `*`, or names the current version (strong comparison). */
export function checkIfMatch(header: string | string[] | undefined, version: number): void {
  if (header === undefined) return;
  const list = tags(Array.isArray(header) ? header.join(',') : header);
  if (list.includes('*')) return;
  if (!list.includes(versionEtag(version))) throw errors.preconditionFailed();
}

/**
 * Every successful GET carries an ETag (the route's version tag, or a hash of the body) and
 * answers If-None-Match with 304.
 */
export function installEtags(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || reply.statusCode !== 200) return payload;
    let etag = reply.getHeader('etag') as string | undefined;
    if (!etag) {
      if (typeof payload !== 'string') return payload;
      // Encoded once: the hash reads these bytes and the response sends them (hashing the string
      // would encode it a second time).
      payload = Buffer.from(payload);
      etag = `"${createHash('sha1').update(payload as Buffer).digest('base64url')}"`;
      reply.header('etag', etag);
    }
    const inm = request.headers['if-none-match'];
    if (inm) {
      const weak = (t: string) => t.replace(/^W\//, '');
      const list = tags(inm).map(weak);
      if (list.includes('*') || list.includes(weak(etag))) {
        reply.code(304);
        reply.removeHeader('content-length');
        return '';
      }
    }
    return payload;
  });
}

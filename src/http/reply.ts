import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkHeader, pageMeta, type Page } from '../lib/pagination.ts';
import { versionEtag } from './etag.ts';

/** A list response: the envelope with full meta, and a Link header. */
export function sendList<T>(request: FastifyRequest, reply: FastifyReply, result: { page: Page; total: number; items: T[] }) {
  const meta = pageMeta(result.page, result.total, result.items.length);
  const [path, query = ''] = request.url.split('?');
  void reply.header('link', linkHeader(`${request.protocol}://${request.host}${path!}`, query, meta));
  return { data: result.items, meta };
}

/** A single versioned resource: its ETag is the version tag that If-Match checks. */
export function sendVersioned<T>(reply: FastifyReply, data: T, version: number) {
  void reply.header('etag', versionEtag(version));
  return { data };
}

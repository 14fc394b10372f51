import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { withErrors } from '../../http/schemas.ts';
import { FeedQuery, FeedSchema } from './feed.schemas.ts';

export function eventFeedRoutes(app: App, deps: Deps): void {
  app.get('/v1/events', {
    schema: {
      operationId: 'listEvents',
      summary: 'The change feed: every event of your workspaces after a cursor, deletions included, in the order they became visible',
      description:
        'Start without `after`, then pass each page\'s `meta.next_cursor`: no event is ever skipped or repeated, even when ' +
        'transactions commit out of order. An event appears once the transaction that wrote it, and every transaction ' +
        'that began before it, has finished. A cursor is bound to the `workspace_id` filter it was read with.',
      tags: ['Events'],
      querystring: FeedQuery,
      response: withErrors({ 200: FeedSchema }),
    },
  }, async (req) => deps.services.events.page(req.principal!, req.query));
}

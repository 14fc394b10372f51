import { Type, type Static } from 'typebox';
import { ActorSchema, ChangesSchema, CsvOf, Id, Nullable, Timestamp } from '../../http/schemas.ts';

/** One event type, or a wildcard over one resource's (`task.*`). */
export const EVENT_TYPE_PATTERN = '[a-z][a-z_]*\\.(?:[a-z][a-z_]*|\\*)';

export const FeedEventSchema = Type.Object(
  {
    id: Id('evt'),
    type: Type.String({ description: 'e.g. task.created, task.deleted (a tombstone: `data` is the resource as it was), sprint.started' }),
    occurred_at: Timestamp,
    workspace_id: Id('ws'),
    project_id: Nullable(Id('proj')),
    resource_type: Type.String({ description: 'task, project, sprint, time_entry, …' }),
    resource_id: Type.String(),
    actor: ActorSchema,
    data: Type.Object({}, { additionalProperties: true, description: 'The resource as the API presents it, after the change' }),
    changes: ChangesSchema('For updates: each changed field, from its old to its new value'),
  },
  { additionalProperties: false },
);

export const FeedSchema = Type.Object(
  {
    data: Type.Array(FeedEventSchema, { description: 'In the order the events became visible' }),
    meta: Type.Object(
      {
        next_cursor: Type.String({ description: 'Pass as `after` for the events after these (the same cursor when there were none)' }),
        has_more: Type.Boolean({ description: 'Whether more events are there now' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const FeedQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 200, description: 'A cursor from an earlier page; absent: from the first event' })),
  types: Type.Optional(CsvOf({ item: EVENT_TYPE_PATTERN }, { maxLength: 1000, description: 'Event types separated by commas (at most 50); `task.*` matches every task event' })),
  workspace_id: Type.Optional(Type.String({ maxLength: 64, description: "Only this workspace's events (default: every workspace the key reaches)" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Events per page (default 100, at most 1,000)' })),
});
export type FeedInput = Static<typeof FeedQuery>;

import { Type, type Static } from 'typebox';
import type { WebhookDisabledReason } from '../../db/schema.ts';
import { Id, ListQuery, Nullable, NullableTimestamp, PageQuery, PathSegment, StringEnum, Timestamp } from '../../http/schemas.ts';
import { EVENT_TYPE_PATTERN } from '../events/feed.schemas.ts';

/** The fields the list can be sorted by. */
export const WEBHOOK_SORTS = ['created_at', 'updated_at'] as const;

/** An event type, a wildcard over one resource's (`task.*`), or `*` (every event). */
export const EventFilter = Type.String({ maxLength: 100, pattern: `^(?:${EVENT_TYPE_PATTERN}|\\*)$`, description: 'An event type (task.created), a resource\'s wildcard (task.*), or * for every event' });

const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'Where deliveries are POSTed: https (http only where the server allows it), without credentials, not a private or loopback address unless the server allows them' });
const Events = Type.Array(EventFilter, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'The events to receive' });
const Description = Type.String({ maxLength: 500 });
/** A signing secret: whsec_ and base64 (Standard Webhooks), or any other text, used as its UTF-8 bytes. */
const Secret = Type.String({ minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]{16,256}$', description: 'whsec_ followed by base64 (verify as Standard Webhooks does), or any other text of 16 to 256 visible ASCII characters, whose UTF-8 bytes are the key; absent: one is generated' });

export const WebhookSchema = Type.Object(
  {
    id: Id('wh'),
    workspace_id: Id('ws'),
    project_id: Nullable(Id('proj'), { description: 'The project watched, or null: the whole workspace' }),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Type.String(),
    active: Type.Boolean({ description: 'false: nothing is delivered (disabled by its owner, by a 410 answer, or after 5 days of failures)' }),
    disabled_reason: Type.Unsafe<WebhookDisabledReason | null>({
      type: ['string', 'null'],
      enum: ['by_request', 'gone', 'failing', null],
      description: 'Why it is not active: by_request (set active=false), gone (the receiver answered 410), failing (5 days of failed deliveries); null while active',
    }),
    rotation_ends_at: Nullable(Timestamp, { description: 'After a rotation: until when the previous secret signs alongside the new one (in the past once it has stopped); null if it never did' }),
    created_by: Nullable(Id('user')),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

/** The creation (and rotation) response: the webhook, and its secret, shown this once. */
export const WebhookWithSecretSchema = Type.Object(
  { ...WebhookSchema.properties, secret: Type.String({ description: 'The signing secret, shown only in this response' }) },
  { additionalProperties: false },
);

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: Events,
    secret: Type.Optional(Secret),
    workspace_id: Type.Optional(Id('ws', 'The workspace watched (or give project_id)')),
    project_id: Type.Optional(Id('proj', 'The project watched (its workspace is implied)')),
    description: Type.Optional(Description),
  },
  { additionalProperties: false, description: 'Give workspace_id or project_id' },
);
export type CreateWebhookInput = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    active: Type.Optional(Type.Boolean({ description: 'false disables it; true enables it again (and clears its failure record)' })),
  },
  { additionalProperties: false },
);
export type UpdateWebhookInput = Static<typeof UpdateWebhookBody>;

export const RotateSecretBody = Type.Object(
  {
    secret: Type.Optional(Secret),
    previous_expires_in_hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 168, description: 'How long the old secret keeps signing alongside the new one (default 24; 0: stops at once)' })),
  },
  { additionalProperties: false },
);
export type RotateSecretInput = Static<typeof RotateSecretBody>;

export const ListWebhooksQuery = Type.Object({
  ...ListQuery(WEBHOOK_SORTS),
  workspace_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only this workspace\'s webhooks' })),
  project_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only the webhooks watching this project' })),
});
export type ListWebhooksInput = Static<typeof ListWebhooksQuery>;

export const AttemptSchema = Type.Object(
  {
    attempted_at: Timestamp,
    status_code: Nullable(Type.Integer(), { description: "The receiver's HTTP status; null when there was none (see error)" }),
    duration_ms: Type.Integer(),
    response_excerpt: Nullable(Type.String(), { description: 'The start of the response body (at most 1 KiB)' }),
    error: Nullable(Type.String(), { description: 'Why there was no response: timeout, refused, forbidden address, …' }),
  },
  { additionalProperties: false },
);

export const DeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'The webhook-id header: the same for every attempt and redelivery' }),
    webhook_id: Id('wh'),
    event_id: Nullable(Id('evt'), { description: 'The event delivered (null for a ping)' }),
    event_type: Type.String(),
    status: StringEnum(['pending', 'succeeded', 'failed'], { description: 'pending: being delivered or waiting for a retry' }),
    attempts: Type.Integer({ description: 'Attempts made so far' }),
    next_attempt_at: NullableTimestamp,
    created_at: Timestamp,
    attempt_log: Type.Array(AttemptSchema, { description: 'Every attempt, oldest first (at most the last 50)' }),
  },
  { additionalProperties: false },
);

export const ListDeliveriesQuery = Type.Object({
  ...PageQuery,
  status: Type.Optional(StringEnum(['pending', 'succeeded', 'failed'])),
});
export type ListDeliveriesInput = Static<typeof ListDeliveriesQuery>;

export const DeliveryPath = Type.Object({ id: PathSegment(200), delivery_id: PathSegment(200) });

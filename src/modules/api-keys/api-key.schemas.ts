import { Type, type Static } from 'typebox';
import { Id, Nullable, NullableTimestamp, ListQuery, StringEnum, Timestamp } from '../../http/schemas.ts';
import { SCOPES } from '../../access/scopes.ts';
import { UserSummary } from '../users/user.schemas.ts';

/** The fields the list can be sorted by. */
export const KEY_SORTS = ['created_at'] as const;

export const ScopeSchema = StringEnum(SCOPES, {
  description:
    "`admin`: everything the key's user may do; `read`: every read and no write; `<resource>:read` or `<resource>:write` (which includes read): only that resource, as an operation's tag names it (Tasks: tasks, Time entries and Time tracking: time, Workflows: projects, …); `webhooks:admin`: webhooks. A key's scopes narrow its user's roles, never widen them",
});

const keyFields = {
  id: Id('key', 'Key id; the user name for HTTP Basic authentication'),
  name: Type.String(),
  scopes: Type.Array(ScopeSchema),
  user_id: Id('user'),
  workspace_id: Nullable(Id('ws')),
  project_id: Nullable(Id('proj'), { description: 'A project key reaches only this project' }),
  prefix: Type.String({ description: 'The first characters of the secret, to recognise it' }),
  expires_at: Timestamp,
  last_used_at: NullableTimestamp,
  last_used_ip: Nullable(Type.String(), { description: 'The client address of the last use (kept with last_used_at, at most once a minute)' }),
  revoked_at: NullableTimestamp,
  created_at: Timestamp,
};

export const ApiKeySchema = Type.Object(keyFields, { additionalProperties: false });

export const CreatedApiKeySchema = Type.Object(
  { ...keyFields, secret: Type.String({ description: 'Shown once, at creation; only its hash is stored' }) },
  { additionalProperties: false },
);

export const SelfSchema = Type.Object(
  { ...keyFields, user: UserSummary, is_instance_admin: Type.Boolean() },
  { additionalProperties: false },
);

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'An alias to recognise the key by' }),
    scopes: Type.Optional(Type.Array(ScopeSchema, { minItems: 1, maxItems: 10, uniqueItems: true, description: 'Default: admin' })),
    expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, description: 'Default 30' })),
    expires_at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'At most 365 days ahead' })),
    project_id: Type.Optional(Type.String({ maxLength: 64, description: 'Limit the key to one project' })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyInput = Static<typeof CreateApiKeyBody>;

export const ListApiKeysQuery = Type.Object(ListQuery(KEY_SORTS));
export type ListApiKeysInput = Static<typeof ListApiKeysQuery>;

import { Type, type Static } from 'typebox';
import { Id, Nullable, ListQuery } from '../../http/schemas.ts';
import { Email, PersonName, Username } from '../users/user.schemas.ts';

/** The fields the list can be sorted by. */
export const USER_SORTS = ['created_at'] as const;

export const CreateUserBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(PersonName),
    username: Type.Optional(Username),
    is_instance_admin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateUserInput = Static<typeof CreateUserBody>;

export const ListUsersQuery = Type.Object(ListQuery(USER_SORTS));
export type ListUsersInput = Static<typeof ListUsersQuery>;

const Limit = (what: string) => Nullable(Type.Integer({ minimum: 1, maximum: 100_000_000 }), { description: `${what}; null: the plan's` });

export const RateLimitBody = Type.Object(
  { hourly: Limit('Requests per hour per key'), burst: Limit('Requests per minute per key') },
  { additionalProperties: false },
);
export type RateLimitInput = Static<typeof RateLimitBody>;

export const WorkspaceRateLimitSchema = Type.Object(
  {
    workspace_id: Id('ws'),
    plan: Type.String(),
    override: Type.Object({ hourly: Nullable(Type.Integer()), burst: Nullable(Type.Integer()) }, { additionalProperties: false, description: "The operator's limits (null: none)" }),
    effective: Type.Object({ hourly: Type.Integer(), burst: Type.Integer() }, { additionalProperties: false, description: 'What keys reaching the workspace get from it' }),
  },
  { additionalProperties: false },
);

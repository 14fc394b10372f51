import { Type, type Static } from 'typebox';
import { SLUG_PATTERN } from '../../lib/listing.ts';
import { Id, ListQuery, StringEnum, Timestamp } from '../../http/schemas.ts';

/** The fields the list can be sorted by. */
export const WORKSPACE_SORTS = ['created_at', 'name', 'slug'] as const;

export const RoleSchema = StringEnum(['owner', 'admin', 'member', 'viewer'], { description: 'Role in the workspace' });
export const PlanSchema = StringEnum(['free', 'pro', 'enterprise']);

export const WorkspaceSchema = Type.Object(
  {
    id: Id('ws'),
    slug: Type.String({ description: 'Unique slug; the `company_slug` of the time-tracking API' }),
    name: Type.String(),
    plan: PlanSchema,
    time_zone: Type.String({ description: 'IANA time zone used by reports by default' }),
    allow_overlapping_time_entries: Type.Boolean({ description: "Whether one user's time entries may overlap (default true); when false, an overlapping entry is refused with 409" }),
    max_timer_minutes: Type.Integer({ description: 'A timer running longer than this is stopped at this limit and marked auto_stopped (default 1440, at most 1440)' }),
    role: RoleSchema,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Slug = Type.String({ pattern: SLUG_PATTERN, maxLength: 63, description: 'Lowercase letters, digits and dashes' });
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' });

export const CreateWorkspaceBody = Type.Object(
  { name: Name, slug: Type.Optional(Slug), time_zone: Type.Optional(TimeZone) },
  { additionalProperties: false },
);
export type CreateWorkspaceInput = Static<typeof CreateWorkspaceBody>;

export const UpdateWorkspaceBody = Type.Object(
  {
    name: Type.Optional(Name),
    slug: Type.Optional(Slug),
    time_zone: Type.Optional(TimeZone),
    plan: Type.Optional(PlanSchema),
    allow_overlapping_time_entries: Type.Optional(Type.Boolean()),
    max_timer_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })),
  },
  { additionalProperties: false },
);
export type UpdateWorkspaceInput = Static<typeof UpdateWorkspaceBody>;

export const ListWorkspacesQuery = Type.Object(ListQuery(WORKSPACE_SORTS));
export type ListWorkspacesInput = Static<typeof ListWorkspacesQuery>;

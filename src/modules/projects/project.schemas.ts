import { Type, type Static } from 'typebox';
import { SLUG_PATTERN } from '../../lib/listing.ts';
import { Id, ListQuery, Timestamp } from '../../http/schemas.ts';

/** The fields the list can be sorted by. */
export const PROJECT_SORTS = ['created_at', 'updated_at', 'name', 'slug'] as const;

export const ProjectSchema = Type.Object(
  {
    id: Id('proj'),
    workspace_id: Id('ws'),
    name: Type.String(),
    slug: Type.String({ description: 'Unique in the workspace; the `project_slug` of the time-tracking API' }),
    description: Type.String(),
    statuses: Type.Array(Type.String(), { description: 'The workflow: task statuses in board order' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Slug = Type.String({ pattern: SLUG_PATTERN, maxLength: 63 });
const Description = Type.String({ maxLength: 10_000 });

export const CreateProjectBody = Type.Object(
  { name: Name, slug: Type.Optional(Slug), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CreateProjectInput = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  { name: Type.Optional(Name), slug: Type.Optional(Slug), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type UpdateProjectInput = Static<typeof UpdateProjectBody>;

export const ListProjectsQuery = Type.Object(ListQuery(PROJECT_SORTS));
export type ListProjectsInput = Static<typeof ListProjectsQuery>;

import { Type, type Static } from 'typebox';
import { Id, ListQuery, Timestamp } from '../../http/schemas.ts';

/** The fields the list can be sorted by. */
export const LABEL_SORTS = ['name', 'created_at', 'updated_at'] as const;

/** A label's name: what tasks carry and the `label` filter matches. No commas (the filter separates names with them), no surrounding spaces. */
export const LabelName = Type.String({ minLength: 1, maxLength: 50, pattern: '^[^,\\s](?:[^,]*[^,\\s])?$', description: 'Unique in the workspace, whatever its case; no commas, no leading or trailing spaces' });
const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', maxLength: 7, description: 'Hex colour, #rrggbb (stored in lower case)' });
const Description = Type.String({ maxLength: 500 });

export const LabelSchema = Type.Object(
  {
    id: Id('lbl'),
    workspace_id: Id('ws'),
    name: Type.String(),
    color: Type.String({ description: '#rrggbb' }),
    description: Type.String(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const CreateLabelBody = Type.Object(
  { name: LabelName, color: Type.Optional(Color), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type CreateLabelInput = Static<typeof CreateLabelBody>;

export const UpdateLabelBody = Type.Object(
  { name: Type.Optional(LabelName), color: Type.Optional(Color), description: Type.Optional(Description) },
  { additionalProperties: false },
);
export type UpdateLabelInput = Static<typeof UpdateLabelBody>;

export const ListLabelsQuery = Type.Object(ListQuery(LABEL_SORTS));
export type ListLabelsInput = Static<typeof ListLabelsQuery>;

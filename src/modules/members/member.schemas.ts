import { Type, type Static } from 'typebox';
import { Id, ListQuery, Timestamp } from '../../http/schemas.ts';
import { Email, PersonName, UserSummary } from '../users/user.schemas.ts';
import { RoleSchema } from '../workspaces/workspace.schemas.ts';

/** The fields the list can be sorted by. */
export const MEMBER_SORTS = ['created_at', 'role', 'username'] as const;

export const MemberSchema = Type.Object(
  {
    id: Id('mem', 'Membership id; DELETE /v1/members/:id removes it'),
    workspace_id: Id('ws'),
    user_id: Id('user'),
    role: RoleSchema,
    user: UserSummary,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const InviteMemberBody = Type.Object(
  {
    email: Email,
    role: Type.Optional(RoleSchema),
    name: Type.Optional(PersonName),
  },
  { additionalProperties: false },
);
export type InviteMemberInput = Static<typeof InviteMemberBody>;

export const UpdateMemberBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
export type UpdateMemberInput = Static<typeof UpdateMemberBody>;

export const ListMembersQuery = Type.Object({
  ...ListQuery(MEMBER_SORTS),
  role: Type.Optional(RoleSchema),
});
export type ListMembersInput = Static<typeof ListMembersQuery>;

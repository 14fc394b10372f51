import { Type, type Static } from 'typebox';
import { PageQuery } from '../../http/schemas.ts';
import { Email, PersonName, Username } from '../users/user.schemas.ts';

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

export const ListUsersQuery = Type.Object(PageQuery);
export type ListUsersInput = Static<typeof ListUsersQuery>;

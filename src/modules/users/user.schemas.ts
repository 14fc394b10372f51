import { Type } from 'typebox';
import { Id, Timestamp } from '../../http/schemas.ts';

export const UserSummary = Type.Object(
  { id: Id('user'), username: Type.String(), name: Type.String(), email: Type.String() },
  { additionalProperties: false },
);

export const UserSchema = Type.Object(
  {
    id: Id('user'),
    username: Type.String(),
    name: Type.String(),
    email: Type.String(),
    is_instance_admin: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
);

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const PersonName = Type.String({ minLength: 1, maxLength: 200 });
export const Username = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,38}$', maxLength: 39 });

import type { User } from '../../db/schema.ts';
import { iso } from '../../lib/time.ts';

export function presentUserSummary(u: Pick<User, 'id' | 'username' | 'name' | 'email'>) {
  return { id: u.id, username: u.username, name: u.name, email: u.email };
}

export function presentUser(u: User) {
  return { ...presentUserSummary(u), is_instance_admin: u.is_instance_admin, created_at: iso(u.created_at), updated_at: iso(u.updated_at) };
}

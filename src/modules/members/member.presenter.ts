import { iso } from '../../lib/time.ts';
import { presentUserSummary } from '../users/user.presenter.ts';
import type { MemberRow } from './member.repository.ts';

export function presentMember(m: MemberRow) {
  return {
    id: m.id,
    workspace_id: m.workspace_id,
    user_id: m.user_id,
    role: m.role,
    user: presentUserSummary({ id: m.user_id, username: m.username, name: m.name, email: m.email }),
    created_at: iso(m.created_at),
    updated_at: iso(m.updated_at),
  };
}

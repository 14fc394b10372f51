import { afterCommit } from '../../db/after-commit.ts';
import type { Db } from '../../db/database.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import { canGrant } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import { userRepository } from '../users/user.repository.ts';
import { presentMember } from './member.presenter.ts';
import { memberRepository } from './member.repository.ts';
import type { MEMBER_SORTS} from './member.schemas.ts';
import { type InviteMemberInput, type ListMembersInput, type UpdateMemberInput } from './member.schemas.ts';

const SORTS = { created_at: 'm.created_at', role: 'm.role', username: 'u.username' } as const satisfies Record<(typeof MEMBER_SORTS)[number], string>;

export interface MemberServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  forgetUser(userId: string): void;
}

export class MemberService {
  constructor(private readonly deps: MemberServiceDeps) {}

  async list(p: Principal, workspaceId: string, q: ListMembersInput) {
    authorize(p, workspaceId, 'member:read', 'Workspace');
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'm.created_at', direction: 'asc' });
    const { rows, total } = await memberRepository(this.deps.db).list(workspaceId, q.role, sort, page.perPage, page.offset);
    return { page, total, items: rows.map(presentMember) };
  }

  /** Invites by email, creating the user if there is none with that email yet. */
  async invite(tx: Db, p: Principal, workspaceId: string, input: InviteMemberInput) {
    const myRole = authorize(p, workspaceId, 'member:invite', 'Workspace');
    const role = input.role ?? 'member';
    if (!canGrant(myRole, role)) throw errors.forbidden(`Your role (${myRole}) cannot grant ${role}`, 'ROLE_TOO_LOW');
    const users = userRepository(tx);
    const now = this.deps.clock.now();
    await users.lockEmail(input.email);
    let user = await users.findByEmail(input.email);
    if (!user) {
      user = await users.insert({
        id: this.deps.ids.next('user'),
        email: input.email,
        username: await users.freeUsername(input.email),
        name: input.name ?? input.email.split('@')[0]!,
        is_instance_admin: false,
        created_at: now,
        updated_at: now,
      });
    } else if (await memberRepository(tx).isMember(workspaceId, user.id)) {
      throw errors.conflict('This user is already a member of the workspace', 'email', undefined, 'ALREADY_MEMBER');
    }
    const member = await memberRepository(tx).insert({
      id: this.deps.ids.next('mem'),
      workspace_id: workspaceId,
      user_id: user.id,
      role,
      created_at: now,
      updated_at: now,
    });
    const data = presentMember(member);
    await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId, type: 'member.added', resourceType: 'member', resourceId: member.id, data });
    const userId = user.id;
    afterCommit(tx, () => this.deps.forgetUser(userId));
    return data;
  }

  async get(p: Principal, id: string) {
    const m = await memberRepository(this.deps.db).find(visibleWorkspaceIds(p), id);
    if (!m) throw errors.notFound('Member');
    authorize(p, m.workspace_id, 'member:read', 'Member');
    return { member: presentMember(m), version: m.version };
  }

  async updateRole(tx: Db, p: Principal, id: string, input: UpdateMemberInput, ifMatch: string | string[] | undefined) {
    const repo = memberRepository(tx);
    const found = await repo.find(visibleWorkspaceIds(p), id);
    if (!found) throw errors.notFound('Member');
    const myRole = authorize(p, found.workspace_id, 'member:invite', 'Member');
    if (found.user_id === p.userId) throw errors.forbidden('You cannot change your own role', 'OWN_ROLE');
    if (!canGrant(myRole, input.role) || !canGrant(myRole, found.role)) {
      throw errors.forbidden(`Your role (${myRole}) cannot change this member to ${input.role}`, 'ROLE_TOO_LOW');
    }
    const owners = await repo.lockOwners(found.workspace_id);
    const m = await repo.findForUpdate([found.workspace_id], id);
    if (!m) throw errors.notFound('Member');
    checkIfMatch(ifMatch, m.version);
    if (m.role === 'owner' && input.role !== 'owner' && owners.length <= 1) {
      throw errors.conflict('A workspace must keep at least one owner', 'role', undefined, 'LAST_OWNER');
    }
    const after = await repo.setRole(id, input.role, this.deps.clock.now());
    const data = presentMember(after);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: m.workspace_id,
      type: 'member.updated',
      resourceType: 'member',
      resourceId: id,
      data,
      changes: diff(presentMember(m), data),
    });
    afterCommit(tx, () => this.deps.forgetUser(m.user_id));
    return { member: data, version: after.version };
  }

  /** Idempotent: removing a membership that is gone (or never visible) answers the same. */
  async remove(tx: Db, p: Principal, id: string) {
    const repo = memberRepository(tx);
    const found = await repo.find(visibleWorkspaceIds(p), id);
    if (!found) return { id, deleted: true as const };
    const myRole = found.user_id === p.userId ? undefined : authorize(p, found.workspace_id, 'member:remove', 'Member');
    if (myRole !== undefined && !canGrant(myRole, found.role)) {
      throw errors.forbidden(`Your role (${myRole}) cannot remove a ${found.role}`, 'ROLE_TOO_LOW');
    }
    const owners = await repo.lockOwners(found.workspace_id);
    if (found.role === 'owner' && owners.length <= 1) {
      throw errors.conflict('A workspace must keep at least one owner', undefined, undefined, 'LAST_OWNER');
    }
    await repo.delete(id);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: found.workspace_id,
      type: 'member.removed',
      resourceType: 'member',
      resourceId: id,
      data: presentMember(found),
    });
    afterCommit(tx, () => this.deps.forgetUser(found.user_id));
    return { id, deleted: true as const };
  }
}

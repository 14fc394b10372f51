import type { Db } from '../../db/database.ts';
import { errors } from '../../http/errors.ts';
import { requireInstanceAdmin, type Principal } from '../../http/principal.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { toPage } from '../../lib/pagination.ts';
import type { ApiKeyService } from '../api-keys/api-key.service.ts';
import type { CreateApiKeyInput } from '../api-keys/api-key.schemas.ts';
import { presentUser } from '../users/user.presenter.ts';
import { userRepository } from '../users/user.repository.ts';
import type { CreateUserInput, ListUsersInput } from './admin.schemas.ts';

export interface AdminServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  apiKeys: ApiKeyService;
}

/** Instance administration: users, and tokens minted for them (like GitLab's impersonation tokens). */
export class AdminService {
  constructor(private readonly deps: AdminServiceDeps) {}

  async listUsers(p: Principal, q: ListUsersInput) {
    requireInstanceAdmin(p);
    if (q.sort !== undefined && q.sort !== 'created_at') throw errors.badRequest('Cannot sort by that field; use created_at', 'sort', 'INVALID_SORT');
    const page = toPage(q);
    const repo = userRepository(this.deps.db);
    const [rows, total] = await Promise.all([repo.list(q.order ?? 'asc', page.perPage, page.offset), repo.count()]);
    return { page, total, items: rows.map(presentUser) };
  }

  async createUser(tx: Db, p: Principal, input: CreateUserInput) {
    requireInstanceAdmin(p);
    const repo = userRepository(tx);
    await repo.lockEmail(input.email);
    if (await repo.findByEmail(input.email)) throw errors.conflict('A user with this email already exists', 'email', undefined, 'EMAIL_TAKEN');
    const now = this.deps.clock.now();
    const user = await repo.insert({
      id: this.deps.ids.next('user'),
      email: input.email,
      username: input.username ?? (await repo.freeUsername(input.email)),
      name: input.name ?? input.email.split('@')[0]!,
      is_instance_admin: input.is_instance_admin ?? false,
      created_at: now,
      updated_at: now,
    });
    return presentUser(user);
  }

  async createKeyFor(tx: Db, p: Principal, userId: string, input: CreateApiKeyInput) {
    requireInstanceAdmin(p);
    const user = await userRepository(tx).findById(userId);
    if (!user) throw errors.notFound('User');
    return this.deps.apiKeys.create(tx, { ...p, projectId: null, keyWorkspaceId: null }, input, user.id);
  }
}

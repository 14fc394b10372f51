import { resolveSort } from '../../lib/listing.ts';
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
import type { CreateUserInput, ListUsersInput, RateLimitInput } from './admin.schemas.ts';
import { sql } from 'kysely';
import { afterCommit } from '../../db/after-commit.ts';
import type { Config } from '../../config.ts';
import { looksLikeId } from '../../lib/ids.ts';

export interface AdminServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  apiKeys: ApiKeyService;
  plans: Config['rateLimit']['plans'];
  /** Every instance recomputes its keys' limits (see AuthBus). */
  forgetAll(): void;
}

/** Instance administration: users, and tokens minted for them (like GitLab's impersonation tokens). */
export class AdminService {
  constructor(private readonly deps: AdminServiceDeps) {}

  /**
   * `PUT /v1/admin/workspaces/:id/rate-limit`: the operator's per-workspace limits, over its
   * plan's (null: the plan's). Keys reaching the workspace get them on their next request, on
   * every instance.
   */
  async setRateLimit(tx: Db, p: Principal, workspaceId: string, input: RateLimitInput) {
    requireInstanceAdmin(p);
    const row = looksLikeId('ws', workspaceId)
      ? await tx
          .updateTable('workspaces')
          .set({ rate_limit_hourly: input.hourly, rate_limit_burst: input.burst, updated_at: this.deps.clock.now(), version: sql`version + 1` })
          .where('id', '=', workspaceId)
          .returning(['id', 'plan', 'rate_limit_hourly', 'rate_limit_burst'])
          .executeTakeFirst()
      : undefined;
    if (!row) throw errors.notFound('Workspace');
    afterCommit(tx, () => this.deps.forgetAll());
    const plan = this.deps.plans[row.plan];
    return {
      workspace_id: row.id,
      plan: row.plan,
      override: { hourly: row.rate_limit_hourly, burst: row.rate_limit_burst },
      effective: { hourly: row.rate_limit_hourly ?? plan.hourly, burst: row.rate_limit_burst ?? plan.burst },
    };
  }

  async listUsers(p: Principal, q: ListUsersInput) {
    requireInstanceAdmin(p);
    const sort = resolveSort(q.sort, q.order, { created_at: 'created_at' }, { column: 'created_at', direction: 'asc' });
    const page = toPage(q);
    const repo = userRepository(this.deps.db);
    const [rows, total] = await Promise.all([repo.list(sort.direction, page.perPage, page.offset), repo.count()]);
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

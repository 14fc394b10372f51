import { resolveSort } from '../../lib/listing.ts';
import { afterCommit, inTransaction } from '../../db/after-commit.ts';
import { eventRow } from '../../events/event.repository.ts';
import type { Db } from '../../db/database.ts';
import { errors } from '../../http/errors.ts';
import { visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { canMint } from '../../access/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import { generateKeySecret, hashSecret } from '../../lib/crypto.ts';
import type { Ids } from '../../lib/ids.ts';
import { toPage } from '../../lib/pagination.ts';
import { projectRepository } from '../projects/project.repository.ts';
import { userRepository } from '../users/user.repository.ts';
import { presentUserSummary } from '../users/user.presenter.ts';
import { presentApiKey } from './api-key.presenter.ts';
import { apiKeyRepository } from './api-key.repository.ts';
import type { CreateApiKeyInput, ListApiKeysInput } from './api-key.schemas.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_KEY_DAYS = 30;
export const MAX_KEY_DAYS = 365;

export interface ApiKeyServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  forgetKey(keyId: string): void;
}

/** How long before its expiry a key's key.expiring event is written. */
export const EXPIRING_NOTICE_MS = 7 * DAY_MS;

export class ApiKeyService {
  constructor(private readonly deps: ApiKeyServiceDeps) {}

  /**
   * Writes a key.expiring event for each key that expires within 7 days and has had none: in
   * its workspace for a key limited to one, otherwise in each workspace its user belongs to.
   * Keys are claimed with FOR UPDATE SKIP LOCKED and marked in the same transaction, so that
   * passes running at once on several instances write each event exactly once. Returns how many
   * keys it noticed.
   */
  async notifyExpiring(batch = 500): Promise<number> {
    return inTransaction(this.deps.db, async (tx) => {
      const now = this.deps.clock.now();
      const keys = await tx
        .selectFrom('api_keys')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where('expiry_notified_at', 'is', null)
        .where('expires_at', '>', now)
        .where('expires_at', '<=', new Date(now.getTime() + EXPIRING_NOTICE_MS))
        .orderBy('expires_at')
        .limit(batch)
        .forUpdate()
        .skipLocked()
        .execute();
      if (keys.length === 0) return 0;
      const memberships = await tx.selectFrom('memberships').select(['user_id', 'workspace_id']).where('user_id', 'in', [...new Set(keys.map((k) => k.user_id))]).execute();
      const events = keys.flatMap((key) => {
        const workspaces = key.workspace_id ? [key.workspace_id] : memberships.filter((m) => m.user_id === key.user_id).map((m) => m.workspace_id);
        const data = { ...presentApiKey(key), expires_in_seconds: Math.max(0, Math.floor((key.expires_at.getTime() - now.getTime()) / 1000)) };
        return workspaces.map((workspaceId) => eventRow(this.deps.ids, { userId: null, keyId: null }, { workspaceId, projectId: key.project_id, type: 'key.expiring', resourceType: 'api_key', resourceId: key.id, data }));
      });
      if (events.length > 0) await tx.insertInto('events').values(events).execute();
      await tx.updateTable('api_keys').set({ expiry_notified_at: now }).where('id', 'in', keys.map((k) => k.id)).execute();
      return keys.length;
    });
  }

  /** Inserts a key for `userId` with the given (already chosen) secret; used by bootstrap too. */
  async insertKey(tx: Db, userId: string, fields: { name: string; scopes: string[]; secret: string; expiresAt: Date; workspaceId: string | null; projectId: string | null }) {
    const key = await apiKeyRepository(tx).insert({
      id: this.deps.ids.next('key'),
      user_id: userId,
      name: fields.name,
      secret_hash: hashSecret(fields.secret),
      display_prefix: fields.secret.slice(0, 8),
      scopes: fields.scopes,
      workspace_id: fields.workspaceId,
      project_id: fields.projectId,
      expires_at: fields.expiresAt,
      created_at: this.deps.clock.now(),
    });
    return { ...presentApiKey(key), secret: fields.secret };
  }

  private expiry(input: CreateApiKeyInput): Date {
    const now = this.deps.clock.now().getTime();
    if (input.expires_at !== undefined && input.expires_in_days !== undefined) {
      throw errors.badRequest('Give expires_at or expires_in_days, not both', 'expires_at', 'PARAMETERS_CONFLICT');
    }
    if (input.expires_at !== undefined) {
      const at = new Date(input.expires_at);
      if (Number.isNaN(at.getTime()) || at.getTime() <= now) throw errors.unprocessable('expires_at must be in the future', 'expires_at', 'INVALID_EXPIRY');
      if (at.getTime() > now + MAX_KEY_DAYS * DAY_MS) throw errors.unprocessable(`A key may live at most ${MAX_KEY_DAYS} days`, 'expires_at', 'INVALID_EXPIRY');
      return at;
    }
    return new Date(now + (input.expires_in_days ?? DEFAULT_KEY_DAYS) * DAY_MS);
  }

  /**
   * A key for `targetUserId` minted by `p`: never with more scopes than `p` holds, and limited to a
   * project only if that project is visible to both of them.
   */
  async create(tx: Db, p: Principal, input: CreateApiKeyInput, targetUserId = p.userId) {
    const scopes = input.scopes ?? ['admin'];
    if (!canMint(p.scopes, scopes)) throw errors.forbidden('A key cannot create a key with more rights than it has', 'INSUFFICIENT_SCOPE');
    const expiresAt = this.expiry(input);
    let projectId = input.project_id ?? null;
    if (p.projectId !== null) {
      if (projectId !== null && projectId !== p.projectId) throw errors.notFound('Project');
      projectId = p.projectId;
    }
    let workspaceId: string | null = p.keyWorkspaceId;
    if (projectId !== null) {
      const project = await projectRepository(tx).find(visibleWorkspaceIds(p), projectId);
      if (!project) throw errors.unprocessable('Unknown project', 'project_id', 'INVALID_PROJECT');
      if (targetUserId !== p.userId) {
        const member = await tx.selectFrom('memberships').select('id').where('workspace_id', '=', project.workspace_id).where('user_id', '=', targetUserId).executeTakeFirst();
        if (!member) throw errors.unprocessable('The user is not a member of that project\'s workspace', 'project_id', 'INVALID_PROJECT');
      }
      workspaceId = project.workspace_id;
    }
    return this.insertKey(tx, targetUserId, { name: input.name, scopes, secret: generateKeySecret(), expiresAt, workspaceId, projectId });
  }

  async list(p: Principal, q: ListApiKeysInput) {
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, { created_at: 'created_at' }, { column: 'created_at', direction: 'desc' });
    const repo = apiKeyRepository(this.deps.db);
    const [rows, total] = await Promise.all([repo.listForUser(p.userId, sort.direction, page.perPage, page.offset), repo.countForUser(p.userId)]);
    return { page, total, items: rows.map(presentApiKey) };
  }

  async self(p: Principal) {
    const repo = apiKeyRepository(this.deps.db);
    const key = await repo.findForUser(p.userId, p.keyId);
    const user = await userRepository(this.deps.db).findById(p.userId);
    // Gone since it was cached (its project or user was deleted): as good as revoked.
    if (!key || key.revoked_at !== null || !user) throw errors.unauthorized();
    return { ...presentApiKey(key), user: presentUserSummary(user), is_instance_admin: user.is_instance_admin };
  }

  /** Idempotent revocation of one of the caller's own keys; effective on the next request. */
  async revoke(tx: Db, p: Principal, id: string) {
    const revoked = await apiKeyRepository(tx).revoke(p.userId, id, this.deps.clock.now());
    if (revoked) afterCommit(tx, () => this.deps.forgetKey(id));
    return { id, deleted: true as const };
  }
}

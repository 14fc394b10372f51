import { inTransaction } from './db/after-commit.ts';
import type { Deps } from './deps.ts';
import { recordEvent } from './events/event.repository.ts';
import { generateKeySecret } from './lib/crypto.ts';
import { MAX_KEY_DAYS } from './modules/api-keys/api-key.service.ts';
import { userRepository } from './modules/users/user.repository.ts';
import { presentWorkspace } from './modules/workspaces/workspace.presenter.ts';
import { workspaceRepository } from './modules/workspaces/workspace.repository.ts';

const BOOTSTRAP_LOCK = 72_650_002;

export interface BootstrapResult {
  email: string;
  workspaceSlug: string;
  keyId: string;
  /** Only when generated here; a key from SPRINTLANE_ADMIN_TOKEN is never echoed. */
  secret: string | undefined;
}

/**
 * First start on an empty database: the owner (an instance administrator), a workspace, and an
 * admin key. Runs under an advisory lock in one transaction, so racing instances create it once.
 */
export async function bootstrap(deps: Deps): Promise<BootstrapResult | null> {
  const { database, clock, ids, config } = deps;
  return database.withLock(BOOTSTRAP_LOCK, () =>
    inTransaction(database.db, async (tx) => {
      const users = userRepository(tx);
      if ((await users.count()) > 0) return null;
      const now = clock.now();
      const user = await users.insert({
        id: ids.next('user'),
        email: config.adminEmail,
        username: await users.freeUsername(config.adminEmail),
        name: 'Administrator',
        is_instance_admin: true,
        created_at: now,
        updated_at: now,
      });
      const ws = await workspaceRepository(tx).insert({ id: ids.next('ws'), slug: 'default', name: 'Default workspace', time_zone: 'UTC', created_at: now, updated_at: now });
      await tx.insertInto('memberships').values({ id: ids.next('mem'), workspace_id: ws.id, user_id: user.id, role: 'owner', created_at: now, updated_at: now }).execute();
      await recordEvent(tx, ids, { userId: user.id, keyId: null }, {
        workspaceId: ws.id,
        type: 'workspace.created',
        resourceType: 'workspace',
        resourceId: ws.id,
        data: presentWorkspace(ws, 'owner'),
      });
      const secret = config.adminToken ?? generateKeySecret();
      const key = await deps.services.apiKeys.insertKey(tx, user.id, {
        name: 'bootstrap admin key',
        scopes: ['admin'],
        secret,
        expiresAt: new Date(now.getTime() + MAX_KEY_DAYS * 24 * 60 * 60 * 1000),
        workspaceId: null,
        projectId: null,
      });
      return { email: user.email, workspaceSlug: ws.slug, keyId: key.id, secret: config.adminToken ? undefined : secret };
    }),
  );
}

import type { Scope } from '../../access/scopes.ts';
import type { ApiKey } from '../../db/schema.ts';
import { iso, isoOrNull } from '../../lib/time.ts';

export function presentApiKey(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes as Scope[],
    user_id: k.user_id,
    workspace_id: k.workspace_id,
    project_id: k.project_id,
    prefix: k.display_prefix,
    expires_at: iso(k.expires_at),
    last_used_at: isoOrNull(k.last_used_at),
    last_used_ip: k.last_used_ip,
    revoked_at: isoOrNull(k.revoked_at),
    created_at: iso(k.created_at),
  };
}

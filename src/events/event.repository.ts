import type { Insertable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { EventsTable } from '../db/schema.ts';
import type { Ids } from '../lib/ids.ts';
import type { Actor } from '../http/principal.ts';

export interface NewEvent {
  workspaceId: string;
  projectId?: string | null;
  type: string;
  resourceType: string;
  resourceId: string;
  data: unknown;
  changes?: Record<string, { from: unknown; to: unknown }> | null;
}

/** The outbox row for an event, for repositories that write it in the same statement as the change. */
export function eventRow(ids: Ids, actor: Actor, event: NewEvent): Insertable<EventsTable> {
  return {
    id: ids.next('evt'),
    workspace_id: event.workspaceId,
    project_id: event.projectId ?? null,
    type: event.type,
    resource_type: event.resourceType,
    resource_id: event.resourceId,
    actor_user_id: actor.userId,
    actor_key_id: actor.keyId,
    data: JSON.stringify(event.data),
    changes: event.changes ? JSON.stringify(event.changes) : null,
  };
}

/** Writes an outbox row. Always called with the transaction of the change it describes. */
export async function recordEvent(tx: Db, ids: Ids, actor: Actor, event: NewEvent): Promise<void> {
  await tx.insertInto('events').values(eventRow(ids, actor, event)).execute();
}

/** Field-by-field differences between two presented versions of a resource. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>, ignore: string[] = ['updated_at']) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after)) {
    if (ignore.includes(key)) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes[key] = { from: before[key], to: after[key] };
  }
  return changes;
}

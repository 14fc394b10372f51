import type { Db } from '../../db/database.ts';
import { sequenceAll } from '../../events/sequencer.ts';
import { errors } from '../../http/errors.ts';
import { visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import { iso } from '../../lib/time.ts';
import { feedRepository, type FeedRow } from './feed.repository.ts';
import { EVENT_TYPE_PATTERN, type FeedInput } from './feed.schemas.ts';

const TYPE_PATTERN = new RegExp(`^${EVENT_TYPE_PATTERN}$`);
const CURSOR = /^v1:(0|[1-9][0-9]{0,17}):(\*|ws_[A-Za-z0-9]{1,60})$/;

/** A cursor: the last position read, and the workspace filter it was read with ('*': none). */
export function encodeCursor(position: number, scope: string): string {
  return Buffer.from(`v1:${position}:${scope}`).toString('base64url');
}

function decodeCursor(value: string): { position: number; scope: string } | undefined {
  const m = CURSOR.exec(Buffer.from(value, 'base64url').toString('latin1'));
  return m ? { position: Number(m[1]), scope: m[2]! } : undefined;
}

function parseTypes(value: string | undefined): { exact: string[]; prefixes: string[] } | undefined {
  if (value === undefined) return undefined;
  const list = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
  if (list.length === 0) return undefined;
  if (list.length > 50) throw errors.badRequest('`types` names at most 50 types', 'types', 'TOO_MANY_TYPES');
  for (const type of list) {
    if (!TYPE_PATTERN.test(type)) throw errors.badRequest(`\`types\`: ${JSON.stringify(type.slice(0, 60))} is not an event type such as task.created or task.*`, 'types');
  }
  return { exact: list.filter((t) => !t.endsWith('.*')), prefixes: list.filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1)) };
}

/** An event as the feed and webhook deliveries show it. */
export function presentEvent(e: FeedRow) {
  return {
    id: e.id,
    type: e.type,
    occurred_at: iso(e.occurred_at),
    workspace_id: e.workspace_id,
    project_id: e.project_id,
    resource_type: e.resource_type,
    resource_id: e.resource_id,
    actor: { user_id: e.actor_user_id, key_id: e.actor_key_id },
    data: e.data,
    changes: e.changes,
  };
}

export class EventFeedService {
  constructor(private readonly deps: { db: Db }) {}

  /** `GET /v1/events`: the caller's workspaces' events after the cursor, in feed order. */
  async page(p: Principal, q: FeedInput) {
    let workspaceIds = visibleWorkspaceIds(p);
    const scope = q.workspace_id ?? '*';
    if (q.workspace_id !== undefined) {
      if (!workspaceIds.includes(q.workspace_id)) throw errors.notFound('Workspace');
      workspaceIds = [q.workspace_id];
    }
    for (const id of workspaceIds) authorize(p, id, 'workspace:read', 'Workspace');
    let after = 0;
    if (q.after !== undefined) {
      const cursor = decodeCursor(q.after);
      if (!cursor) throw errors.badRequest('`after` is not a cursor this API gave out', 'after', 'INVALID_CURSOR');
      if (cursor.scope !== scope) {
        throw errors.badRequest(
          cursor.scope === '*' ? 'This cursor was given for every workspace: leave out workspace_id' : 'This cursor was given for another workspace_id: pass the same one',
          'after',
          'INVALID_CURSOR',
        );
      }
      after = cursor.position;
    }
    const types = parseTypes(q.types);
    const limit = q.limit ?? 100;
    // Events committed by now get their positions before the read (cheap when none wait).
    await sequenceAll(this.deps.db);
    const rows = await feedRepository(this.deps.db).page({ workspaceIds, projectId: p.projectId, after, types, limit: limit + 1 });
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    return { data: shown.map(presentEvent), meta: { next_cursor: encodeCursor(last ? Number(last.position) : after, scope), has_more: rows.length > limit } };
  }
}

import { afterCommit } from '../../db/after-commit.ts';
import type { Db } from '../../db/database.ts';
import type { Workspace } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, roleIn, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort, slugify } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import { isValidTimeZone } from '../../lib/time.ts';
import type { WORKSPACE_SORTS} from './workspace.schemas.ts';
import { type CreateWorkspaceInput, type ListWorkspacesInput, type UpdateWorkspaceInput } from './workspace.schemas.ts';
import { presentWorkspace } from './workspace.presenter.ts';
import { workspaceRepository } from './workspace.repository.ts';

const SORTS = { created_at: 'created_at', name: 'name', slug: 'slug' } as const satisfies Record<(typeof WORKSPACE_SORTS)[number], string>;

export interface WorkspaceServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  forgetUser(userId: string): void;
  forgetAll(): void;
}

export class WorkspaceService {
  constructor(private readonly deps: WorkspaceServiceDeps) {}

  async list(p: Principal, q: ListWorkspacesInput) {
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'created_at', direction: 'asc' });
    const ids = visibleWorkspaceIds(p);
    const rows = await workspaceRepository(this.deps.db).list(ids, sort, page.perPage, page.offset);
    return { page, total: ids.length, items: rows.map((w) => presentWorkspace(w, roleIn(p, w.id)!)) };
  }

  async get(p: Principal, id: string) {
    const w = await workspaceRepository(this.deps.db).find(visibleWorkspaceIds(p), id);
    if (!w) throw errors.notFound('Workspace');
    return { workspace: presentWorkspace(w, authorize(p, w.id, 'workspace:read', 'Workspace')), version: w.version };
  }

  /** The caller becomes the new workspace's owner. */
  async create(tx: Db, p: Principal, input: CreateWorkspaceInput) {
    if (p.projectId !== null) throw errors.forbidden('A project key cannot create workspaces', 'PROJECT_KEY');
    const timeZone = input.time_zone ?? 'UTC';
    if (!isValidTimeZone(timeZone)) throw errors.unprocessable(`Unknown time zone ${JSON.stringify(timeZone)}`, 'time_zone', 'UNKNOWN_TIME_ZONE');
    const repo = workspaceRepository(tx);
    const slug = input.slug ?? (await repo.freeSlug(slugify(input.name, 'workspace')));
    const now = this.deps.clock.now();
    const w = await repo.insert({ id: this.deps.ids.next('ws'), slug, name: input.name, time_zone: timeZone, created_at: now, updated_at: now });
    await tx
      .insertInto('memberships')
      .values({ id: this.deps.ids.next('mem'), workspace_id: w.id, user_id: p.userId, role: 'owner', created_at: now, updated_at: now })
      .execute();
    const data = presentWorkspace(w, 'owner');
    await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: w.id, type: 'workspace.created', resourceType: 'workspace', resourceId: w.id, data });
    afterCommit(tx, () => this.deps.forgetUser(p.userId));
    return data;
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateWorkspaceInput, ifMatch: string | string[] | undefined) {
    const role = roleIn(p, id);
    if (role === undefined) throw errors.notFound('Workspace');
    authorize(p, id, 'workspace:update', 'Workspace');
    if (input.plan !== undefined && !p.isInstanceAdmin) {
      throw errors.forbidden('Only instance administrators can change the plan', 'NOT_INSTANCE_ADMIN');
    }
    if (input.time_zone !== undefined && !isValidTimeZone(input.time_zone)) {
      throw errors.unprocessable(`Unknown time zone ${JSON.stringify(input.time_zone)}`, 'time_zone', 'UNKNOWN_TIME_ZONE');
    }
    const repo = workspaceRepository(tx);
    const before = await repo.findForUpdate(id);
    if (!before) throw errors.notFound('Workspace');
    checkIfMatch(ifMatch, before.version);
    const changes: Partial<Pick<Workspace, 'name' | 'slug' | 'time_zone' | 'plan' | 'allow_overlapping_time_entries' | 'max_timer_minutes'>> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.slug !== undefined) changes.slug = input.slug;
    if (input.time_zone !== undefined) changes.time_zone = input.time_zone;
    if (input.plan !== undefined) changes.plan = input.plan;
    if (input.allow_overlapping_time_entries !== undefined) changes.allow_overlapping_time_entries = input.allow_overlapping_time_entries;
    if (input.max_timer_minutes !== undefined) changes.max_timer_minutes = input.max_timer_minutes;
    const after = await repo.update(id, changes, this.deps.clock.now());
    const data = presentWorkspace(after, role);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: id,
      type: 'workspace.updated',
      resourceType: 'workspace',
      resourceId: id,
      data,
      changes: diff(presentWorkspace(before, role), data),
    });
    // The plan decides rate limits, which are cached with each key.
    if (input.plan !== undefined) afterCommit(tx, () => this.deps.forgetAll());
    return { workspace: data, version: after.version };
  }
}

import { afterCommit } from '../../db/after-commit.ts';
import type { Db } from '../../db/database.ts';
import type { Project } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Action } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort, slugify } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import { presentProject } from './project.presenter.ts';
import { projectRepository } from './project.repository.ts';
import type { PROJECT_SORTS} from './project.schemas.ts';
import { type CreateProjectInput, type ListProjectsInput, type UpdateProjectInput } from './project.schemas.ts';

const SORTS = { created_at: 'created_at', updated_at: 'updated_at', name: 'name', slug: 'slug' } as const satisfies Record<(typeof PROJECT_SORTS)[number], string>;

export interface ProjectServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  forgetAll(): void;
}

export class ProjectService {
  constructor(private readonly deps: ProjectServiceDeps) {}

  /** A visible project and the caller's right to `action` on it, or 404/403. */
  async load(db: Db, p: Principal, id: string, action: Action, lock = false): Promise<Project> {
    const project = await projectRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!project) throw errors.notFound('Project');
    authorize(p, project.workspace_id, action, 'Project', project.id);
    return project;
  }

  async list(p: Principal, workspaceId: string, q: ListProjectsInput) {
    authorize(p, workspaceId, 'project:read', 'Workspace');
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'created_at', direction: 'desc' });
    const { rows, total } = await projectRepository(this.deps.db).list(workspaceId, p.projectId, sort, page.perPage, page.offset);
    return { page, total, items: rows.map(presentProject) };
  }

  async get(p: Principal, id: string) {
    const project = await this.load(this.deps.db, p, id, 'project:read');
    return { project: presentProject(project), version: project.version };
  }

  async create(tx: Db, p: Principal, workspaceId: string, input: CreateProjectInput) {
    authorize(p, workspaceId, 'project:create', 'Workspace');
    const repo = projectRepository(tx);
    const slug = input.slug ?? (await repo.freeSlug(workspaceId, slugify(input.name, 'project')));
    const now = this.deps.clock.now();
    const project = await repo.insert({
      id: this.deps.ids.next('proj'),
      workspace_id: workspaceId,
      name: input.name,
      slug,
      description: input.description ?? '',
      created_at: now,
      updated_at: now,
    });
    const data = presentProject(project);
    await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId, projectId: project.id, type: 'project.created', resourceType: 'project', resourceId: project.id, data });
    return data;
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateProjectInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'project:update', true);
    const repo = projectRepository(tx);
    checkIfMatch(ifMatch, before.version);
    const changes: Partial<Pick<Project, 'name' | 'slug' | 'description'>> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.slug !== undefined) changes.slug = input.slug;
    if (input.description !== undefined) changes.description = input.description;
    const after = await repo.update(before.workspace_id, id, changes, this.deps.clock.now());
    const data = presentProject(after);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: after.workspace_id,
      projectId: id,
      type: 'project.updated',
      resourceType: 'project',
      resourceId: id,
      data,
      changes: diff(presentProject(before), data),
    });
    return { project: data, version: after.version };
  }

  /** Idempotent: a project that is gone, or was never visible, answers the same 200. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await projectRepository(tx).find(visibleWorkspaceIds(p), id);
    if (!found || !projectVisible(p, found.workspace_id, found.id)) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'project:delete', 'Project', found.id);
    checkIfMatch(ifMatch, found.version);
    await projectRepository(tx).delete(found.workspace_id, id);
    // Its project keys were deleted with it; they must stop working at once, not when the cache expires.
    afterCommit(tx, () => this.deps.forgetAll());
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: found.workspace_id,
      projectId: id,
      type: 'project.deleted',
      resourceType: 'project',
      resourceId: id,
      data: presentProject(found),
    });
    return { id, deleted: true as const };
  }
}

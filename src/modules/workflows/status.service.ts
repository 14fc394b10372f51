import type { Db } from '../../db/database.ts';
import type { Project, ProjectStatus } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { authorize } from '../../access/access.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { presentProject } from '../projects/project.presenter.ts';
import { projectRepository } from '../projects/project.repository.ts';
import type { ProjectService } from '../projects/project.service.ts';
import { taskRepository } from '../tasks/task.repository.ts';
import { wipError } from '../tasks/task.rules.ts';
import { writeTaskChanges } from '../tasks/task.service.ts';
import { presentStatus } from './status.presenter.ts';
import { statusRepository, type StatusChanges } from './status.repository.ts';
import { MAX_STATUSES, type CreateStatusInput, type DeleteStatusInput, type UpdateStatusInput } from './status.schemas.ts';

export interface StatusServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  projects: ProjectService;
}

/**
 * A project's workflow: its board columns. Changes lock the project row, so that they run one at
 * a time per project and a task being created waits for them (and then sees the new columns).
 */
export class StatusService {
  constructor(private readonly deps: StatusServiceDeps) {}

  async list(p: Principal, projectId: string) {
    const project = await this.deps.projects.load(this.deps.db, p, projectId, 'project:read');
    return (await statusRepository(this.deps.db).list(project.id)).map((s) => presentStatus(s, s.task_count));
  }

  async get(p: Principal, projectId: string, key: string) {
    const project = await this.deps.projects.load(this.deps.db, p, projectId, 'project:read');
    const repo = statusRepository(this.deps.db);
    const status = await repo.find(project.id, key);
    if (!status) throw errors.notFound('Status');
    return { status: presentStatus(status, await repo.taskCount(project.id, key)), version: status.version };
  }

  async create(tx: Db, p: Principal, projectId: string, input: CreateStatusInput) {
    const project = await this.deps.projects.load(tx, p, projectId, 'project:update', true);
    const repo = statusRepository(tx);
    const count = project.statuses.length;
    if (count >= MAX_STATUSES) throw errors.unprocessable(`A project has at most ${MAX_STATUSES} statuses`, 'key', 'TOO_MANY_STATUSES');
    if (project.statuses.includes(input.key)) throw errors.conflict(`The project already has a status ${JSON.stringify(input.key)}`, 'key', undefined, 'KEY_TAKEN');
    const position = Math.min(input.position ?? count, count);
    await repo.shift(project.id, position, count - 1, 1);
    const now = this.deps.clock.now();
    const status = await repo.insert({
      id: this.deps.ids.next('sts'),
      workspace_id: project.workspace_id,
      project_id: project.id,
      key: input.key,
      name: input.name,
      category: input.category,
      wip_limit: input.wip_limit ?? null,
      position,
      created_at: now,
      updated_at: now,
    });
    const data = presentStatus(status, 0);
    await this.event(tx, p, status, 'status.created', data);
    await this.syncProject(tx, p, project, now);
    return data;
  }

  async update(tx: Db, p: Principal, projectId: string, key: string, input: UpdateStatusInput, ifMatch: string | string[] | undefined) {
    const project = await this.deps.projects.load(tx, p, projectId, 'project:update', true);
    const repo = statusRepository(tx);
    const before = await repo.find(project.id, key, true);
    if (!before) throw errors.notFound('Status');
    checkIfMatch(ifMatch, before.version);
    const changes: StatusChanges = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.category !== undefined) changes.category = input.category;
    if (input.wip_limit !== undefined) changes.wip_limit = input.wip_limit;
    const last = project.statuses.length - 1;
    const position = input.position === undefined ? before.position : Math.min(input.position, last);
    if (position !== before.position) {
      // The columns between the old place and the new one move up or down by one.
      if (position < before.position) await repo.shift(project.id, position, before.position - 1, 1);
      else await repo.shift(project.id, before.position + 1, position, -1);
      changes.position = position;
    }
    const now = this.deps.clock.now();
    const after = await repo.update(before.id, changes, now);
    const count = await repo.taskCount(project.id, key);
    const data = presentStatus(after, count);
    await this.event(tx, p, after, 'status.updated', data, diff(presentStatus(before, count), data));
    if (position !== before.position) await this.syncProject(tx, p, project, now);
    return { status: data, version: after.version };
  }

  /**
   * Removes a column. One that holds tasks needs `move_to`, another of the project's columns,
   * which takes them (each with its task.moved event) if its WIP limit has room. The last column
   * stays. Idempotent: a column that is not there answers the same 200.
   */
  async remove(tx: Db, p: Principal, projectId: string, key: string, q: DeleteStatusInput, ifMatch: string | string[] | undefined) {
    // As every DELETE: what the caller cannot see answers as what is gone.
    const project = await projectRepository(tx).find(visibleWorkspaceIds(p), projectId, true);
    if (!project || !projectVisible(p, project.workspace_id, project.id)) return { id: key, deleted: true as const };
    authorize(p, project.workspace_id, 'project:update', 'Project', project.id);
    const repo = statusRepository(tx);
    const found = await repo.find(project.id, key, true);
    if (!found) return { id: key, deleted: true as const };
    checkIfMatch(ifMatch, found.version);
    if (project.statuses.length === 1) throw errors.conflict('A project keeps at least one status', 'key', undefined, 'LAST_STATUS');
    const tasks = await taskRepository(tx).inStatus(project.id, key);
    const now = this.deps.clock.now();
    if (tasks.length > 0) {
      if (q.move_to === undefined) {
        throw errors.conflict(`The ${key} column holds ${tasks.length} tasks: name another column in \`move_to\` to take them`, 'move_to', { tasks: tasks.length }, 'STATUS_NOT_EMPTY');
      }
      if (q.move_to === key || !project.statuses.includes(q.move_to)) {
        throw errors.unprocessable(`\`move_to\` must be another of this project's statuses: ${project.statuses.filter((s) => s !== key).join(', ')}`, 'move_to', 'INVALID_STATUS');
      }
      const room = (await repo.room(project.id, [q.move_to], [])).get(q.move_to);
      if (room && room.room < tasks.length) throw wipError(q.move_to, room.limit, 'move_to');
      await writeTaskChanges(tx, this.deps.ids, p, tasks.map((before) => ({ before, after: { ...before, status: q.move_to!, version: before.version + 1, updated_at: now } })), 'task.moved', now);
    }
    await repo.delete(found.id);
    await repo.shift(project.id, found.position + 1, project.statuses.length - 1, -1);
    await this.event(tx, p, found, 'status.deleted', presentStatus(found, 0));
    await this.syncProject(tx, p, project, now);
    return { id: key, deleted: true as const };
  }

  /** The project's statuses (its column keys in board order) after a change to its columns, with its project.updated event. */
  private async syncProject(tx: Db, p: Principal, before: Project, at: Date) {
    const after = await projectRepository(tx).syncStatuses(before.id, at);
    const data = presentProject(after);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: after.workspace_id,
      projectId: after.id,
      type: 'project.updated',
      resourceType: 'project',
      resourceId: after.id,
      data,
      changes: diff(presentProject(before), data),
    });
  }

  private event(tx: Db, p: Principal, s: ProjectStatus, type: string, data: unknown, changes?: Record<string, { from: unknown; to: unknown }>) {
    return recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: s.workspace_id, projectId: s.project_id, type, resourceType: 'status', resourceId: s.id, data, changes });
  }
}


import type { Db } from '../../db/database.ts';
import type { Priority, Project, Task } from '../../db/schema.ts';
import { diff, eventRow, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Actor, type Principal } from '../../http/principal.ts';
import { authorize, workspacesWhere } from '../../access/access.ts';
import { afterCommit, inTransaction } from '../../db/after-commit.ts';
import { can, ROLES, type Action } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { looksLikeId } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import { iso, parseInstant } from '../../lib/time.ts';
import { resolveLabels, type LabelContext } from '../labels/label.service.ts';
import { presentComment } from '../comments/comment.presenter.ts';
import { presentAttachment } from '../attachments/attachment.presenter.ts';
import { attachmentRepository } from '../attachments/attachment.repository.ts';
import type { AttachmentStore } from '../attachments/storage.ts';
import { commentRepository } from '../comments/comment.repository.ts';
import { memberRepository } from '../members/member.repository.ts';
import { projectRepository } from '../projects/project.repository.ts';
import { sprintLogRows } from '../sprints/sprint-log.ts';
import { sprintRepository } from '../sprints/sprint.repository.ts';
import type { ProjectService } from '../projects/project.service.ts';
import { presentEntry } from '../time-entries/time-entry.presenter.ts';
import { timeEntryRepository } from '../time-entries/time-entry.repository.ts';
import { presentTask, type Include, type Related } from './task.presenter.ts';
import { PATCHABLE_FIELDS, taskRepository, type TaskChanges, type TaskFilter } from './task.repository.ts';
import { assigneeError, parentError, sprintError, statusError, wipError } from './task.rules.ts';
import { statusRepository } from '../workflows/status.repository.ts';
import { INCLUDES, PRIORITIES, type TASK_SORTS, type CreateTaskInput, type ListAllTasksInput, type ListTasksInput, type MoveTaskInput, type TaskActivityInput, type UpdateTaskInput } from './task.schemas.ts';

const SORTS = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  number: 'number',
  title: 'title',
  priority: 'priority',
  status: 'status',
  due_date: 'due_date',
  position: 'rank',
} as const satisfies Record<(typeof TASK_SORTS)[number], string>;

/** Listing a project's tasks skips the role check only while no role is barred from reading them. */
const EVERY_ROLE_READS_TASKS = ROLES.every((role) => can(role, 'task:read'));
/** How many of a task's time entries (comments) `include=time_entries` (`comments`) embeds; the task's own lists have them all. */
const EMBEDDED_RELATED = 100;

function csv(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list : undefined;
}

export function parseInclude(value: string | undefined): Include[] {
  const list = csv(value) ?? [];
  for (const item of list) {
    if (!(INCLUDES as readonly string[]).includes(item)) {
      throw errors.badRequest(`Cannot include ${JSON.stringify(item)}; use: ${INCLUDES.join(', ')}`, 'include', 'INVALID_INCLUDE');
    }
  }
  return [...new Set(list)] as Include[];
}

function instant(value: string | undefined, param: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = parseInstant(value);
  if (!d) throw errors.badRequest(`\`${param}\` is not a valid date or date-time with an offset`, param);
  return d;
}

/**
 * Writes the event of a change to a task (the task as presented after it, and each field's old and
 * new value) and its sprint log rows, in the caller's transaction; returns the presented task.
 * Every writer of tasks uses it, so that a task's history (its events) and its sprints' reports
 * have every change.
 */
export async function recordTaskChange(tx: Db, ids: Ids, p: Principal, before: Task, after: Task, type: string) {
  const event = taskChangeEvent(ids, actorOf(p), before, after, type);
  await taskRepository(tx).recordChange(event.row, sprintLogRows(before, after, after.updated_at));
  return event.data;
}

/** The event of one change to a task: the task as presented after it, and each field's old and new value. */
function taskChangeEvent(ids: Ids, actor: Actor, before: Task, after: Task, type: string) {
  const data = presentTask(after);
  const row = eventRow(ids, actor, { workspaceId: after.workspace_id, projectId: after.project_id, type, resourceType: 'task', resourceId: after.id, data, changes: diff(presentTask(before), data) });
  return { row, data };
}

/**
 * Writes changed tasks (whole, each `after` with its new version and updated_at) with an event
 * of `type` each and their sprint log rows: one statement for the tasks, one for the rest. The
 * caller holds the tasks' locks. For the set-based writers (batches, label and column changes).
 */
export async function writeTaskChanges(tx: Db, ids: Ids, p: Principal, changed: Array<{ before: Task; after: Task }>, type: string, at: Date): Promise<void> {
  if (changed.length === 0) return;
  const repo = taskRepository(tx);
  const wrote = await repo.updateMany(changed.map((c) => c.after), at);
  if (wrote !== changed.length) throw new Error(`wrote ${wrote} of the ${changed.length} tasks held locked`);
  const actor = actorOf(p);
  const events = changed.map(({ before, after }) => taskChangeEvent(ids, actor, before, after, type).row);
  await repo.recordChange(events, changed.flatMap(({ before, after }) => sprintLogRows(before, after, at)));
}

/**
 * A task the caller can see, with their right to `action` on it: 404 for a task that is not
 * there or not theirs to see, 403 for a role too low. For the task's own routes and its
 * relations' (comments, attachments).
 */
export async function visibleTask(db: Db, p: Principal, id: string, action: Action, lock = false): Promise<Task> {
  const task = await taskRepository(db).find(visibleWorkspaceIds(p), id, lock);
  if (!task || !projectVisible(p, task.workspace_id, task.project_id)) throw errors.notFound('Task');
  authorize(p, task.workspace_id, action, 'Task', task.project_id);
  return task;
}

/** A new task's own fields, from the request: what its project adds (workspace, number, default status) comes from elsewhere. */
export function newTaskDraft(ids: Ids, p: Principal, input: CreateTaskInput, now: Date) {
  return {
    id: ids.next('task'),
    uuid: ids.uuid(),
    title: input.title,
    description: input.description ?? '',
    priority: input.priority ?? 'medium',
    labels: [...new Set(input.labels ?? [])],
    assignee_id: input.assignee_id ?? null,
    due_date: input.due_date ?? null,
    estimated_minutes: input.estimated_minutes ?? null,
    sprint_id: input.sprint_id ?? null,
    parent_id: input.parent_id ?? null,
    subtask_count: 0,
    subtask_done_count: 0,
    created_by: p.userId,
    tracked_seconds: 0,
    version: 1,
    created_at: now,
    updated_at: now,
  };
}

/** The fields a patch sets (null clears one); those it does not send are not in it. Labels each once. */
export function taskChanges(input: UpdateTaskInput): TaskChanges {
  const changes: Record<string, unknown> = {};
  for (const field of PATCHABLE_FIELDS) if (input[field] !== undefined) changes[field] = input[field];
  if (input.labels !== undefined) changes.labels = [...new Set(input.labels)];
  return changes as TaskChanges;
}

export interface TaskServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  projects: ProjectService;
  /** Where attachments' files are: a deleted task's go once it is gone. */
  attachments: AttachmentStore;
}

export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  private filterFrom(q: ListTasksInput, scope: TaskFilter['scope']): TaskFilter {
    const priorities = csv(q.priority);
    for (const p of priorities ?? []) {
      if (!(PRIORITIES as readonly string[]).includes(p)) throw errors.badRequest(`\`priority\` must be one of: ${PRIORITIES.join(', ')}`, 'priority');
    }
    const assignees = csv(q.assignee)?.map((a) => (a === 'none' ? null : a));
    const sprints = csv(q.sprint)?.map((s) => (s === 'none' ? null : s));
    return {
      scope,
      statuses: csv(q.status),
      priorities: priorities as Priority[] | undefined,
      assignees,
      sprints,
      parent: q.parent === undefined ? undefined : q.parent === 'none' ? null : q.parent,
      labels: csv(q.label),
      createdAfter: instant(q.created_after, 'created_after'),
      createdBefore: instant(q.created_before, 'created_before'),
      updatedAfter: instant(q.updated_after, 'updated_after'),
    };
  }

  private async listWith(filter: TaskFilter, q: ListTasksInput) {
    const include = parseInclude(q.include);
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'created_at', direction: 'desc' });
    const { rows, total } = await taskRepository(this.deps.db).list(filter, sort, page.perPage, page.offset);
    const related = await this.related(rows, include);
    return { page, total, items: rows.map((t) => presentTask(t, include, related(t))) };
  }

  /**
   * Reading tasks needs only the project to be visible (every role may read them), so the page
   * query checks that itself: one statement when the page has rows. An empty page cannot tell a
   * hidden project from an empty one, so it loads the project the usual way.
   */
  async listInProject(p: Principal, projectId: string, q: ListTasksInput) {
    const checked = EVERY_ROLE_READS_TASKS && looksLikeId('proj', projectId) && (p.projectId === null || p.projectId === projectId);
    const listed = checked ? await this.listWith(this.filterFrom(q, { project: projectId, onlyIfIn: visibleWorkspaceIds(p) }), q) : undefined;
    if (listed && listed.items.length > 0) return listed;
    const project = await this.deps.projects.load(this.deps.db, p, projectId, 'task:read');
    // An empty first page of a visible project is the answer as it stands (its total is 0); past
    // the first page, the total takes a count.
    if (listed && listed.page.offset === 0) return listed;
    return this.listWith(this.filterFrom(q, { project: project.id }), q);
  }

  /** Tasks across every workspace (or one project/workspace) the caller can see. */
  async listAll(p: Principal, q: ListAllTasksInput) {
    let workspaceIds = visibleWorkspaceIds(p);
    if (q.workspace !== undefined) workspaceIds = workspaceIds.filter((w) => w === q.workspace);
    const projectId = q.project ?? p.projectId ?? undefined;
    if (p.projectId !== null && projectId !== p.projectId) workspaceIds = [];
    return this.listWith(this.filterFrom(q, { workspaceIds, projectId }), q);
  }

  /** The relations asked for, for these tasks: the 100 most recent time entries and comments of each, newest first. */
  private async related(tasks: Task[], include: readonly Include[]): Promise<(t: Task) => Related> {
    if (tasks.length === 0) return () => ({});
    const ids = tasks.map((t) => t.id);
    const [entries, comments, attachments] = await Promise.all([
      include.includes('time_entries') ? timeEntryRepository(this.deps.db).recentForTasks(ids, EMBEDDED_RELATED) : undefined,
      include.includes('comments') ? commentRepository(this.deps.db).recentForTasks(ids, EMBEDDED_RELATED) : undefined,
      include.includes('attachments') ? attachmentRepository(this.deps.db).forTasks(ids) : undefined,
    ]);
    return (t) => {
      const out: Related = {};
      if (entries) out.time_entries = (entries.get(t.id) ?? []).map(presentEntry);
      if (comments) out.comments = (comments.get(t.id) ?? []).map(presentComment);
      if (attachments) out.attachments = (attachments.get(t.id) ?? []).map(presentAttachment);
      return out;
    };
  }

  private load(db: Db, p: Principal, id: string, action: 'task:read' | 'task:write', lock = false): Promise<Task> {
    return visibleTask(db, p, id, action, lock);
  }

  async get(p: Principal, id: string, includeParam: string | undefined) {
    const include = parseInclude(includeParam);
    const task = await this.load(this.deps.db, p, id, 'task:read');
    const related = await this.related([task], include);
    return { task: presentTask(task, include, related(task)), version: task.version, include: include.length > 0 };
  }

  /** `GET /v1/tasks/:id/activity`: every change to the task, with who made it and each field's old and new value. */
  async activity(p: Principal, id: string, q: TaskActivityInput) {
    const task = await this.load(this.deps.db, p, id, 'task:read');
    const page = toPage(q);
    const { rows, total } = await taskRepository(this.deps.db).activity(task.id, q.order ?? 'asc', page.perPage, page.offset);
    const items = rows.map((e) => ({
      id: e.id,
      type: e.type,
      occurred_at: iso(e.occurred_at),
      actor: { user_id: e.actor_user_id, key_id: e.actor_key_id },
      changes: e.type === 'task.created' ? null : ((e.changes as Record<string, { from: unknown; to: unknown }> | null) ?? {}),
    }));
    return { page, total, items };
  }

  private labelContext(p: Principal, at: Date): LabelContext {
    return { ids: this.deps.ids, actor: actorOf(p), at };
  }

  private checkStatus(project: Project, status: string): void {
    const error = statusError(project.statuses, status);
    if (error) throw error;
  }

  /** Room in the column for the task (409 WIP_LIMIT_REACHED otherwise), held until the transaction ends. */
  private async checkRoom(tx: Db, projectId: string, status: string, taskId: string | null): Promise<void> {
    const room = (await statusRepository(tx).room(projectId, [status], taskId ? [taskId] : [])).get(status);
    if (room && room.room < 1) throw wipError(status, room.limit);
  }

  /**
   * A parent for the task (`task` null for a new one): see parentError. The parent is held (see
   * taskRepository.parents), so it cannot become a subtask meanwhile; a task being changed is
   * already held FOR UPDATE, so it cannot gain subtasks meanwhile (theirs must hold it too).
   */
  private async checkParent(tx: Db, projectId: string, parentId: string | null | undefined, task: Task | null): Promise<void> {
    if (parentId === undefined || parentId === null) return;
    const [parent] = await taskRepository(tx).parents([parentId]);
    const error = parentError(parent, projectId, task);
    if (error) throw error;
  }

  private async checkAssignee(tx: Db, workspaceId: string, assignee: string | null | undefined): Promise<void> {
    if (assignee === undefined || assignee === null) return;
    if (!(await memberRepository(tx).isMember(workspaceId, assignee))) throw assigneeError();
  }

  /** A sprint for a task of the project: one of the project's that has not ended (422 otherwise, also for another project's). */
  private async checkSprint(tx: Db, projectId: string, sprintId: string | null | undefined): Promise<void> {
    if (sprintId === undefined || sprintId === null) return;
    const sprint = looksLikeId('spr', sprintId) ? await sprintRepository(tx).findInProject(projectId, sprintId, true) : undefined;
    const error = sprintError(sprint, projectId);
    if (error) throw error;
  }

  /**
   * One statement when the request is valid (see createIfValid), which needs no transaction
   * around it: the route runs it without one unless an Idempotency-Key asks for its record to be
   * written alongside. A refused create takes the checked path, which says why.
   */
  async create(db: Db, p: Principal, projectId: string, input: CreateTaskInput) {
    if (p.projectId === null || p.projectId === projectId) {
      const draft = { ...this.draft(p, input), status: input.status ?? null };
      // The event carries the presented task; the statement fills in number, workspace and status.
      const data = presentTask({ ...draft, project_id: projectId, workspace_id: '', number: 0, status: '' });
      const actor = actorOf(p);
      const event = { id: this.deps.ids.next('evt'), actorUserId: actor.userId, actorKeyId: actor.keyId, data };
      const row = await taskRepository(db).createIfValid(workspacesWhere(p, 'task:write'), projectId, draft, event);
      if (row) return presentTask(row);
    }
    // In a transaction of its own, unless the caller's is already open: its reservation of a
    // number must not outlive a refusal.
    return db.isTransaction ? this.createChecked(db, p, projectId, input) : inTransaction(db, (tx) => this.createChecked(tx, p, projectId, input));
  }

  private draft(p: Principal, input: CreateTaskInput) {
    return newTaskDraft(this.deps.ids, p, input, this.deps.clock.now());
  }

  /**
   * The create with every check spelled out, in the caller's transaction: reserve the number
   * (which also loads and locks the project), check, insert the task with its event. Any refusal
   * after the reservation rolls it back.
   */
  private async createChecked(tx: Db, p: Principal, projectId: string, input: CreateTaskInput) {
    const project = await projectRepository(tx).reserveTaskNumber(visibleWorkspaceIds(p), projectId);
    if (!project || !projectVisible(p, project.workspace_id, project.id)) throw errors.notFound('Project');
    authorize(p, project.workspace_id, 'task:write', 'Project', project.id);
    const status = input.status ?? project.statuses[0]!;
    this.checkStatus(project, status);
    await this.checkRoom(tx, project.id, status, null);
    await this.checkAssignee(tx, project.workspace_id, input.assignee_id);
    await this.checkSprint(tx, project.id, input.sprint_id);
    await this.checkParent(tx, project.id, input.parent_id, null);
    const draft = this.draft(p, input);
    const labels = await resolveLabels(tx, this.labelContext(p, draft.created_at), project.workspace_id, draft.labels);
    const task: Task = { ...draft, labels, workspace_id: project.workspace_id, project_id: project.id, number: project.last_task_number, status };
    const data = presentTask(task);
    const event = eventRow(this.deps.ids, actorOf(p), { workspaceId: task.workspace_id, projectId: task.project_id, type: 'task.created', resourceType: 'task', resourceId: task.id, data });
    await taskRepository(tx).insertWithEvent(task, event);
    return data;
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateTaskInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'task:write', true);
    checkIfMatch(ifMatch, before.version);
    if (input.status !== undefined) {
      const project = await this.deps.projects.load(tx, p, before.project_id, 'task:write');
      this.checkStatus(project, input.status);
      if (input.status !== before.status) await this.checkRoom(tx, before.project_id, input.status, before.id);
    }
    await this.checkAssignee(tx, before.workspace_id, input.assignee_id);
    if (input.sprint_id !== before.sprint_id) await this.checkSprint(tx, before.project_id, input.sprint_id);
    if (input.parent_id !== undefined && input.parent_id !== before.parent_id) await this.checkParent(tx, before.project_id, input.parent_id, before);
    const changes = taskChanges(input);
    if (changes.labels) changes.labels = await resolveLabels(tx, this.labelContext(p, this.deps.clock.now()), before.workspace_id, changes.labels);
    return this.write(tx, p, before, changes, 'task.updated');
  }

  async move(tx: Db, p: Principal, id: string, input: MoveTaskInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'task:write', true);
    checkIfMatch(ifMatch, before.version);
    const project = await this.deps.projects.load(tx, p, before.project_id, 'task:write');
    this.checkStatus(project, input.status);
    if (input.status !== before.status) await this.checkRoom(tx, before.project_id, input.status, before.id);
    if (input.position !== undefined) {
      const repo = taskRepository(tx);
      await repo.setRank(before.id, await repo.rankAt(before.project_id, input.status, input.position, before.id));
    }
    return this.write(tx, p, before, { status: input.status }, 'task.moved');
  }

  private async write(tx: Db, p: Principal, before: Task, changes: TaskChanges, type: string) {
    const after = await taskRepository(tx).update(before.workspace_id, before.id, changes, this.deps.clock.now());
    return { task: await recordTaskChange(tx, this.deps.ids, p, before, after, type), version: after.version };
  }

  /** Idempotent: a task that is gone, or was never visible, answers the same 200. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await taskRepository(tx).find(visibleWorkspaceIds(p), id);
    if (!found || !projectVisible(p, found.workspace_id, found.project_id)) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'task:write', 'Task', found.project_id);
    checkIfMatch(ifMatch, found.version);
    const files = await attachmentRepository(tx).idsOfTask(found.id);
    await taskRepository(tx).delete(found, this.deps.clock.now());
    // The rows go with the task (a foreign key); the files once that has committed.
    if (files.length > 0) afterCommit(tx, () => void Promise.all(files.map((f) => this.deps.attachments.remove(f))).catch(() => undefined));
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: found.workspace_id,
      projectId: found.project_id,
      type: 'task.deleted',
      resourceType: 'task',
      resourceId: id,
      data: presentTask(found),
    });
    return { id, deleted: true as const };
  }
}

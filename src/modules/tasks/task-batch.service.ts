// Batch operations on tasks: up to 100 creates, merge patches or moves in one transaction.
//
// A batch reads what its rules need once for all its items (the tasks, their projects, the
// sprints and assignees named), checks each item against the same rules as a request of it alone
// (task.rules.ts), then writes every item that passed in a few statements: one for the tasks, one
// for their events (one per changed task) and sprint log rows. atomic (the default) writes nothing
// if any item is refused; atomic=false writes the others and says what became of each.
import type { Db } from '../../db/database.ts';
import type { Project, Sprint, Task } from '../../db/schema.ts';
import { eventRow } from '../../events/event.repository.ts';
import { AppError, errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Clock } from '../../lib/clock.ts';
import { looksLikeId, type Ids } from '../../lib/ids.ts';
import { canonicalLabels, type LabelContext } from '../labels/label.service.ts';
import { memberRepository } from '../members/member.repository.ts';
import { projectRepository } from '../projects/project.repository.ts';
import type { ProjectService } from '../projects/project.service.ts';
import { sprintRepository } from '../sprints/sprint.repository.ts';
import { presentTask } from './task.presenter.ts';
import { taskRepository } from './task.repository.ts';
import { assigneeError, parentError, sprintError, statusError, wipError } from './task.rules.ts';
import { newTaskDraft, taskChanges, writeTaskChanges } from './task.service.ts';
import { statusRepository } from '../workflows/status.repository.ts';
import type { BatchCreateInput, BatchMoveInput, BatchResult, BatchUpdateInput } from './task-batch.schemas.ts';
import type { UpdateTaskInput } from './task.schemas.ts';

export interface TaskBatchDeps {
  clock: Clock;
  ids: Ids;
  projects: ProjectService;
}

export interface BatchOutcome {
  data: Result[];
  meta: { atomic: boolean; total: number; succeeded: number; failed: number; changed: number };
}

/** An item's result (the schema's, with the task as the presenter gives it). */
type Result = Omit<BatchResult, 'data'> & { data?: ReturnType<typeof presentTask> };

type Patch = UpdateTaskInput & { id: string; version?: number };

/** What an item's references must be checked against, read once for the whole batch. */
interface Facts {
  sprints: Map<string, Sprint>;
  /** Would-be parents, held (taskRepository.parents). */
  parents: Map<string, Pick<Task, 'id' | 'project_id' | 'parent_id'>>;
  /** "workspace user" pairs of members. */
  members: Set<string>;
}

/** The result of a refused item: the error a request of it alone would have had, its field named within the batch. */
function refused(index: number, id: string | null, e: unknown): Result {
  if (!(e instanceof AppError)) throw e;
  const error: NonNullable<Result['error']> = { code: e.code, message: e.message };
  if (e.param !== undefined) error.param = `tasks[${index}].${e.param}`;
  if (e.details !== undefined) error.details = e.details;
  return { index, id, status: e.status, error };
}

function outcome(results: Result[], atomic: boolean, changed: number): BatchOutcome {
  const failed = results.filter((r) => r.error !== undefined);
  if (atomic && failed.length > 0) {
    throw new AppError(
      422,
      'BATCH_REJECTED',
      `${failed.length} of ${results.length} items were refused, so nothing was changed (send atomic=false to apply the others)`,
      'tasks',
      { errors: failed },
    );
  }
  return { data: results, meta: { atomic, total: results.length, succeeded: results.length - failed.length, failed: failed.length, changed } };
}

/** The HTTP status of a batch's response: the items' own when they all agree, else 207 Multi-Status. */
export function batchStatus(ok: 200 | 201) {
  return (r: BatchOutcome) => (r.meta.failed === 0 ? ok : 207);
}

/** `atomic` from the body or the query string (a disagreement is a 400); true unless either says false. */
export function resolveAtomic(body: boolean | undefined, query: 'true' | 'false' | undefined): boolean {
  const fromQuery = query === undefined ? undefined : query === 'true';
  if (body !== undefined && fromQuery !== undefined && body !== fromQuery) {
    throw errors.badRequest('`atomic` in the query string and in the body disagree', 'atomic', 'PARAMETERS_CONFLICT');
  }
  return body ?? fromQuery ?? true;
}

export class TaskBatchService {
  constructor(private readonly deps: TaskBatchDeps) {}

  /** The sprints the items name, held shared (before any task is locked, see findManyForShare). */
  private async sprints(tx: Db, p: Principal, ids: Array<string | null | undefined>): Promise<Map<string, Sprint>> {
    const sprints = await sprintRepository(tx).findManyForShare(visibleWorkspaceIds(p), [...new Set(ids.filter((s): s is string => typeof s === 'string'))]);
    return new Map(sprints.map((s) => [s.id, s]));
  }

  private async parents(tx: Db, ids: Array<string | null | undefined>): Promise<Facts['parents']> {
    const rows = await taskRepository(tx).parents([...new Set(ids.filter((s): s is string => typeof s === 'string'))]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Which of the (workspace, assignee) pairs the items name are memberships. */
  private members(tx: Db, pairs: Array<[string, string | null | undefined]>): Promise<Set<string>> {
    const named = pairs.filter((m): m is [string, string] => typeof m[1] === 'string');
    return memberRepository(tx).membersAmong([...new Set(named.map((m) => m[0]))], [...new Set(named.map((m) => m[1]))]);
  }

  /** The first rule of the task's project, workspace and sprints that `fields` break, if any. */
  private check(project: Pick<Project, 'id' | 'workspace_id' | 'statuses'>, facts: Facts, fields: UpdateTaskInput, before?: Task): AppError | undefined {
    if (fields.status !== undefined) {
      const e = statusError(project.statuses, fields.status);
      if (e) return e;
    }
    if (typeof fields.assignee_id === 'string' && !facts.members.has(`${project.workspace_id} ${fields.assignee_id}`)) return assigneeError();
    if (typeof fields.sprint_id === 'string' && fields.sprint_id !== before?.sprint_id) {
      const e = sprintError(facts.sprints.get(fields.sprint_id), project.id);
      if (e) return e;
    }
    if (typeof fields.parent_id === 'string' && fields.parent_id !== before?.parent_id) return parentError(facts.parents.get(fields.parent_id), project.id, before ?? null);
    return undefined;
  }

  /** `POST /v1/projects/:id/tasks/batch`. */
  async create(tx: Db, p: Principal, projectId: string, input: BatchCreateInput, atomic: boolean): Promise<BatchOutcome> {
    const project = await this.deps.projects.load(tx, p, projectId, 'task:write', true);
    const facts: Facts = {
      sprints: await this.sprints(tx, p, input.tasks.map((t) => t.sprint_id)),
      members: await this.members(tx, input.tasks.map((t) => [project.workspace_id, t.assignee_id])),
      parents: await this.parents(tx, input.tasks.map((t) => t.parent_id)),
    };
    const now = this.deps.clock.now();
    const results: Result[] = [];
    const drafts: Array<{ index: number; task: Omit<Task, 'number'> }> = [];
    input.tasks.forEach((item, index) => {
      const status = item.status ?? project.statuses[0]!;
      const problem = this.check(project, facts, { ...item, status });
      if (problem) {
        results.push(refused(index, null, problem));
        return;
      }
      drafts.push({ index, task: { ...newTaskDraft(this.deps.ids, p, item, now), workspace_id: project.workspace_id, project_id: project.id, status } });
    });
    if ((atomic && results.length > 0) || drafts.length === 0) return outcome(results, atomic, 0);
    // Columns with a WIP limit take the first items that fit, in the order of the request.
    const room = await statusRepository(tx).room(project.id, [...new Set(drafts.map((d) => d.task.status))], []);
    for (let i = 0; i < drafts.length; i++) {
      const column = room.get(drafts[i]!.task.status);
      if (!column) continue;
      if (column.room > 0) {
        column.room--;
        continue;
      }
      results.push(refused(drafts[i]!.index, null, wipError(drafts[i]!.task.status, column.limit)));
      drafts.splice(i--, 1);
    }
    if ((atomic && results.length > 0) || drafts.length === 0) return outcome(results.sort((a, b) => a.index - b.index), atomic, 0);
    const labels = await labelsFor(tx, { ids: this.deps.ids, actor: actorOf(p), at: now }, drafts.map((d) => ({ workspaceId: project.workspace_id, names: d.task.labels })));
    const last = await projectRepository(tx).reserveTaskNumbers(project.id, drafts.length);
    const first = last - drafts.length + 1;
    const rows: Task[] = drafts.map((d, i) => ({ ...d.task, labels: labels[i]!, number: first + i }));
    const actor = actorOf(p);
    const events = rows.map((task) =>
      eventRow(this.deps.ids, actor, { workspaceId: task.workspace_id, projectId: task.project_id, type: 'task.created', resourceType: 'task', resourceId: task.id, data: presentTask(task) }),
    );
    await taskRepository(tx).insertMany(rows, events);
    rows.forEach((task, i) => results.push({ index: drafts[i]!.index, id: task.id, status: 201, data: presentTask(task) }));
    return outcome(results.sort((a, b) => a.index - b.index), atomic, rows.length);
  }

  /** `PATCH /v1/tasks/batch`: merge patches; the fields an item does not send are never touched. */
  update(tx: Db, p: Principal, input: BatchUpdateInput, atomic: boolean): Promise<BatchOutcome> {
    return this.patch(tx, p, input.tasks, 'task.updated', atomic);
  }

  /** `POST /v1/tasks/batch/move`: each task to a status of its project. */
  async move(tx: Db, p: Principal, input: BatchMoveInput, atomic: boolean): Promise<BatchOutcome> {
    const result = await this.patch(tx, p, input.tasks.map((t) => ({ id: t.id, version: t.version, status: t.status })), 'task.moved', atomic, true);
    // Then each placed task takes its place in its column, in the order of the request, as if
    // moved one at a time.
    const repo = taskRepository(tx);
    for (const r of result.data) {
      const position = input.tasks[r.index]!.position;
      if (position === undefined || r.error || !r.data) continue;
      await repo.setRank(r.data.id, await repo.rankAt(r.data.project_id as string, r.data.status as string, position, r.data.id));
    }
    return result;
  }

  /** `always`: write every accepted item, even one that changes nothing (a move is an act: it has its event, as a move of one task has). */
  private async patch(tx: Db, p: Principal, items: Patch[], type: string, atomic: boolean, always = false): Promise<BatchOutcome> {
    const sprints = await this.sprints(tx, p, items.map((t) => t.sprint_id));
    const tasks = new Map((await taskRepository(tx).findMany(visibleWorkspaceIds(p), items.map((t) => t.id), true)).map((t) => [t.id, t]));
    const projectIds = [...new Set([...tasks.values()].map((t) => t.project_id))];
    const projects = new Map((items.some((t) => t.status !== undefined) ? await projectRepository(tx).findMany(projectIds) : []).map((x) => [x.id, x]));
    // Assignees are checked against the workspaces of the tasks, which are known only now.
    const members = await this.members(tx, items.map((t) => [tasks.get(t.id)?.workspace_id ?? '', tasks.has(t.id) ? t.assignee_id : undefined]));
    // After the tasks: a parent that is also in the batch is already held.
    const facts: Facts = { sprints, members, parents: await this.parents(tx, items.map((t) => t.parent_id)) };

    const now = this.deps.clock.now();
    const gainingParent = new Set(items.filter((t) => typeof t.parent_id === 'string').map((t) => t.id));
    const namedParents = new Set(items.map((t) => t.parent_id).filter((id): id is string => typeof id === 'string'));
    const seen = new Set<string>();
    const results: Result[] = [];
    const accepted: Array<{ index: number; item: Patch; before: Task }> = [];
    items.forEach((item, index) => {
      const before = tasks.get(item.id);
      try {
        if (seen.has(item.id)) throw errors.unprocessable('The task is in the batch more than once; send each task once', 'id', 'DUPLICATE_ITEM');
        seen.add(item.id);
        if (!before || !projectVisible(p, before.workspace_id, before.project_id)) throw errors.notFound('Task');
        authorize(p, before.workspace_id, 'task:write', 'Task', before.project_id);
        if (item.version !== undefined && item.version !== before.version) {
          throw new AppError(412, 'PRECONDITION_FAILED', `The task has changed since version ${item.version}; it is at version ${before.version}`, 'version');
        }
        const project = projects.get(before.project_id) ?? { id: before.project_id, workspace_id: before.workspace_id, statuses: [] };
        const problem = this.check(project, facts, item, before);
        if (problem) throw problem;
        // Within the batch as well, subtasks have one level.
        if (typeof item.parent_id === 'string' && item.parent_id !== before.parent_id) {
          if (gainingParent.has(item.parent_id)) throw errors.unprocessable('The parent becomes a subtask in this batch; subtasks have one level', 'parent_id', 'PARENT_IS_SUBTASK');
          if (namedParents.has(item.id)) throw errors.unprocessable('The task becomes a parent in this batch, so it cannot become a subtask', 'parent_id', 'HAS_SUBTASKS');
        }
      } catch (e) {
        // The id is echoed only when it could be a task's: arbitrary input is never presented as an id.
        results.push(refused(index, looksLikeId('task', item.id) ? item.id : null, e));
        return;
      }
      accepted.push({ index, item, before });
    });
    if (atomic && results.length > 0) return outcome(results, atomic, 0);

    // Columns with a WIP limit take the first tasks that fit, in the order of the request; tasks
    // of the batch that leave a column make room in it.
    const moving = accepted.filter((a) => a.item.status !== undefined && a.item.status !== a.before.status);
    for (const projectId of new Set(moving.map((a) => a.before.project_id))) {
      const here = moving.filter((a) => a.before.project_id === projectId);
      const room = await statusRepository(tx).room(projectId, [...new Set(here.map((a) => a.item.status!))], here.map((a) => a.before.id));
      for (const a of here) {
        const column = room.get(a.item.status!);
        if (!column) continue;
        if (column.room > 0) {
          column.room--;
          continue;
        }
        results.push(refused(a.index, a.before.id, wipError(a.item.status!, column.limit)));
        accepted.splice(accepted.indexOf(a), 1);
      }
    }
    if (atomic && results.length > 0) return outcome(results.sort((a, b) => a.index - b.index), atomic, 0);

    // Only the accepted items' labels are made: a refused item leaves nothing behind.
    const actor = actorOf(p);
    const labelled = accepted.filter((a) => a.item.labels !== undefined);
    const labels = await labelsFor(tx, { ids: this.deps.ids, actor, at: now }, labelled.map((a) => ({ workspaceId: a.before.workspace_id, names: a.item.labels! })));
    const labelsOf = new Map(labelled.map((a, i) => [a.index, labels[i]!]));
    const changed: Array<{ before: Task; after: Task }> = [];
    for (const { index, item, before } of accepted) {
      const after = merge(before, { ...item, labels: labelsOf.get(index) });
      if (after === before && !always) {
        results.push({ index, id: before.id, status: 200, data: presentTask(before) });
        continue;
      }
      const written = { ...after, version: before.version + 1, updated_at: now };
      changed.push({ before, after: written });
      results.push({ index, id: before.id, status: 200, data: presentTask(written) });
    }
    results.sort((a, b) => a.index - b.index);
    if (changed.length === 0) return outcome(results, atomic, 0);

    await writeTaskChanges(tx, this.deps.ids, p, changed, type, now);
    return outcome(results, atomic, changed.length);
  }
}

/** Each item's labels (canonicalLabels, each once), with one read per workspace for the whole batch. */
async function labelsFor(tx: Db, ctx: LabelContext, items: Array<{ workspaceId: string; names: readonly string[] }>): Promise<string[][]> {
  const out: string[][] = items.map(() => []);
  const byWorkspace = new Map<string, number[]>();
  items.forEach((item, i) => {
    if (item.names.length > 0) byWorkspace.set(item.workspaceId, [...(byWorkspace.get(item.workspaceId) ?? []), i]);
  });
  for (const [workspaceId, members] of byWorkspace) {
    const names = await canonicalLabels(tx, ctx, workspaceId, members.flatMap((i) => items[i]!.names));
    let at = 0;
    for (const i of members) {
      out[i] = [...new Set(names.slice(at, at + items[i]!.names.length))];
      at += items[i]!.names.length;
    }
  }
  return out;
}

/** `before` with the patch's fields set, or `before` itself when they change nothing. */
function merge(before: Task, patch: Patch): Task {
  const after: Task = { ...before, ...taskChanges(patch) };
  const same = (Object.keys(after) as Array<keyof Task>).every((k) => JSON.stringify(after[k]) === JSON.stringify(before[k]));
  return same ? before : after;
}

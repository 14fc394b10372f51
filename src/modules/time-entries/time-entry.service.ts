import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { inTransaction } from '../../db/after-commit.ts';
import { lockName } from '../../db/locks.ts';
import type { Project, Task, Workspace } from '../../db/schema.ts';
import { diff, eventRow, recordEvent, type NewEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, projectVisible, roleIn, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import { can } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage, type PageQuery } from '../../lib/pagination.ts';
import { parseInstant } from '../../lib/time.ts';
import { taskRepository } from '../tasks/task.repository.ts';
import { presentEntry, type EntryRow } from './time-entry.presenter.ts';
import { timeEntryRepository, type EntryFilter } from './time-entry.repository.ts';
import type { ENTRY_SORTS} from './time-entry.schemas.ts';
import { type CreateTimeEntryInput, type UpdateTimeEntryInput } from './time-entry.schemas.ts';

const SORTS = { started_at: 'started_at', ended_at: 'ended_at', created_at: 'created_at', updated_at: 'updated_at' } as const satisfies Record<(typeof ENTRY_SORTS)[number], string>;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Entries are kept to the second, so that every figure derived from them adds up to the second. */
function toSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function instant(value: string, param: string): Date {
  const d = parseInstant(value);
  if (!d) throw errors.badRequest(`\`${param}\` is not a valid date-time with an offset`, param);
  return toSecond(d);
}

function filterInstant(value: string | undefined, param: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = parseInstant(value);
  if (!d) throw errors.badRequest(`\`${param}\` is not a valid date or date-time with an offset`, param);
  return d;
}

/** A manual interval's rules: it ends after it starts and lasts at most 24 hours. */
function checkInterval(start: Date, end: Date): void {
  if (end.getTime() <= start.getTime()) throw errors.unprocessable('`ended_at` must be after `started_at`', 'ended_at', 'INVALID_INTERVAL');
  if (end.getTime() - start.getTime() > DAY_MS) throw errors.unprocessable('A time entry lasts at most 24 hours', 'ended_at', 'ENTRY_TOO_LONG');
}

/** The project (`p`, with its workspace `w`) that the GitScrum surface's slugs name, among `visible` workspaces. */
function projectsBySlugs(db: Db, visible: string[], companySlug: string, projectSlug: string) {
  return db
    .selectFrom('projects as p')
    .innerJoin('workspaces as w', 'w.id', 'p.workspace_id')
    .where(sql<string>`lower(w.slug)`, '=', companySlug.toLowerCase())
    .where(sql<string>`lower(p.slug)`, '=', projectSlug.toLowerCase())
    .where('w.id', 'in', visible);
}

/** A task found for a timer on the GitScrum surface, with what starting one needs. */
export type TaskForTimer = Task & { workspace_allows_overlaps: boolean; my_username: string; my_name: string; next_entry_id: string };

export interface TimeEntryServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
}

export interface EntryListQuery extends PageQuery {
  sort?: string;
  order?: 'asc' | 'desc';
  user?: string;
  billable?: 'true' | 'false';
  running?: 'true' | 'false';
  from?: string;
  to?: string;
}

export class TimeEntryService {
  constructor(private readonly deps: TimeEntryServiceDeps) {}

  private now(): Date {
    return toSecond(this.deps.clock.now());
  }

  /** A task the caller may track time on, or 404/403. */
  async taskForTracking(db: Db, p: Principal, taskId: string): Promise<Task> {
    const task = await taskRepository(db).find(visibleWorkspaceIds(p), taskId);
    if (!task || !projectVisible(p, task.workspace_id, task.project_id)) throw errors.notFound('Task');
    authorize(p, task.workspace_id, 'time:write', 'Task', task.project_id);
    return task;
  }

  /**
   * The task `uuid` of the project that the slugs name, in one query: 404 for the project (as
   * projectBySlugs) or for the task, 403 where the caller may not track time on it.
   */
  async taskBySlugs(db: Db, p: Principal, companySlug: string, projectSlug: string, uuid: string): Promise<TaskForTimer> {
    const visible = visibleWorkspaceIds(p);
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid);
    const row = visible.length
      ? await projectsBySlugs(db, visible, companySlug, projectSlug)
          .leftJoin('tasks as t', (j) => j.onRef('t.project_id', '=', 'p.id').on('t.uuid', '=', isUuid ? uuid : '00000000-0000-0000-0000-000000000000'))
          .innerJoin('users as me', (j) => j.on('me.id', '=', p.userId))
          .selectAll('t')
          .select(['p.id as found_project_id', 'p.workspace_id as found_workspace_id', 'w.allow_overlapping_time_entries as workspace_allows_overlaps'])
          // What a timer started on the task needs, so that it and its event are one statement.
          .select(['me.username as my_username', 'me.name as my_name', sql<string>`nextval(pg_get_serial_sequence('time_entries', 'id'))::text`.as('next_entry_id')])
          .executeTakeFirst()
      : undefined;
    if (!row || !projectVisible(p, row.found_workspace_id, row.found_project_id)) throw errors.notFound('Project');
    authorize(p, row.found_workspace_id, 'time:read', 'Project', row.found_project_id);
    if (row.id === null) throw errors.notFound('Task');
    const { found_project_id: _p, found_workspace_id: _w, ...task } = row;
    authorize(p, task.workspace_id!, 'time:write', 'Task', task.project_id!);
    return task as TaskForTimer;
  }

  /** The project that `company_slug` and `project_slug` name, among those the caller sees; otherwise 404. */
  async projectBySlugs(db: Db, p: Principal, companySlug: string, projectSlug: string): Promise<Project & { workspace_time_zone: string }> {
    const visible = visibleWorkspaceIds(p);
    const project = visible.length
      ? await projectsBySlugs(db, visible, companySlug, projectSlug).selectAll('p').select('w.time_zone as workspace_time_zone').executeTakeFirst()
      : undefined;
    if (!project || !projectVisible(p, project.workspace_id, project.id)) throw errors.notFound('Project');
    authorize(p, project.workspace_id, 'time:read', 'Project', project.id);
    return project;
  }

  private async workspace(db: Db, id: string): Promise<Workspace> {
    return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  /** Refuses an interval that overlaps another of the user's entries, where the workspace says so (one query). */
  private async checkOverlap(db: Db, workspaceId: string, userId: string, start: Date, end: Date | null, exceptId?: string): Promise<void> {
    if (await timeEntryRepository(db).overlaps(workspaceId, userId, start, end, exceptId)) {
      throw errors.conflict('This entry overlaps another of your time entries, and this workspace does not allow overlapping entries', 'started_at', undefined, 'ENTRY_OVERLAPS');
    }
  }

  /** Starts a timer for the caller on the task, now by the server's clock. */
  async start(tx: Db, p: Principal, task: TaskForTimer, description: string | undefined): Promise<EntryRow> {
    // Where overlaps are allowed, the start is one statement (atomic by itself); otherwise a lock,
    // a check and the insert, which need a transaction.
    if (!task.workspace_allows_overlaps && !tx.isTransaction) return inTransaction(tx, (t) => this.start(t, p, task, description));
    const repo = timeEntryRepository(tx);
    const now = this.now();
    if (!task.workspace_allows_overlaps) {
      // Serialised with the user's manual entries, which check for overlaps the same way.
      await lockName(tx, `timer:${p.userId}`);
      await this.checkOverlap(tx, task.workspace_id, p.userId, now, null);
    }
    const entry: EntryRow = {
      id: task.next_entry_id,
      workspace_id: task.workspace_id,
      project_id: task.project_id,
      task_id: task.id,
      user_id: p.userId,
      started_at: now,
      ended_at: null,
      description: description ?? '',
      billable: true,
      is_manual: false,
      auto_stopped: false,
      version: 1,
      created_at: now,
      updated_at: now,
      task_uuid: task.uuid,
      username: task.my_username,
      user_name: task.my_name,
    };
    const { task_uuid: _t, username: _u, user_name: _n, ...row } = entry;
    // One timer per user is the unique index's rule: a start that meets another running timer
    // (committed, or committing meanwhile: the insert waits for it) writes nothing, event included.
    if (!(await repo.insertTimer(row, eventRow(this.deps.ids, actorOf(p), this.eventOf(entry, 'timer.started'))))) {
      const running = await repo.running(p.userId);
      throw errors.conflict('You already have a running timer; stop it first', 'task_uuid', running ? { running_entry: presentEntry(running) } : undefined, 'TIMER_ALREADY_RUNNING');
    }
    return entry;
  }

  /** A manual entry on the task, from the caller's interval. */
  async createManual(tx: Db, p: Principal, task: Task, input: { start: Date; end: Date; description?: string; billable?: boolean }): Promise<EntryRow> {
    checkInterval(input.start, input.end);
    await lockName(tx, `timer:${p.userId}`);
    await this.checkOverlap(tx, task.workspace_id, p.userId, input.start, input.end);
    const now = this.now();
    const entry = await timeEntryRepository(tx).insert({
      workspace_id: task.workspace_id,
      project_id: task.project_id,
      task_id: task.id,
      user_id: p.userId,
      started_at: input.start,
      ended_at: input.end,
      description: input.description ?? '',
      billable: input.billable ?? true,
      is_manual: true,
      created_at: now,
      updated_at: now,
    });
    await this.event(tx, p, entry, 'time_entry.created');
    return entry;
  }

  /** `POST /v1/time-entries`: an interval, or a duration on a day (or from a start). */
  async create(tx: Db, p: Principal, input: CreateTimeEntryInput): Promise<EntryRow> {
    const task = await this.taskForTracking(tx, p, input.task_id);
    let start: Date;
    let end: Date;
    if (input.duration_minutes !== undefined) {
      if (input.ended_at !== undefined) throw errors.badRequest('Give `ended_at` or `duration_minutes`, not both', 'ended_at', 'PARAMETERS_CONFLICT');
      if (input.started_at !== undefined && input.date !== undefined) throw errors.badRequest('Give `started_at` or `date`, not both', 'date', 'PARAMETERS_CONFLICT');
      start = input.started_at !== undefined ? instant(input.started_at, 'started_at') : await this.midnight(tx, task.workspace_id, input.date);
      end = new Date(start.getTime() + input.duration_minutes * 60_000);
    } else {
      if (input.started_at === undefined) throw errors.badRequest('Give `duration_minutes`, or `started_at` and `ended_at`', 'duration_minutes', 'PARAMETER_REQUIRED');
      if (input.ended_at === undefined) throw errors.badRequest('`ended_at` is required with `started_at` (or give `duration_minutes`)', 'ended_at', 'PARAMETER_REQUIRED');
      if (input.date !== undefined) throw errors.badRequest('`date` goes with `duration_minutes`', 'date', 'PARAMETERS_CONFLICT');
      start = instant(input.started_at, 'started_at');
      end = instant(input.ended_at, 'ended_at');
    }
    return this.createManual(tx, p, task, { start, end, description: input.description, billable: input.billable });
  }

  /** Midnight of `date` (default: today) in the workspace's time zone. */
  private async midnight(db: Db, workspaceId: string, date: string | undefined): Promise<Date> {
    const ws = await this.workspace(db, workspaceId);
    const { rows } = await sql<{ t: Date }>`
      select (coalesce(${date ?? null}::date, (${this.now()}::timestamptz at time zone ${ws.time_zone})::date)::timestamp at time zone ${ws.time_zone}) as t`.execute(db);
    return rows[0]!.t;
  }

  /**
   * An entry the caller may change: their own (with the right to track time), or anyone's for a
   * workspace admin. Anyone else's answers 404, like an entry that does not exist.
   */
  private async loadForChange(db: Db, p: Principal, id: string, project?: Project): Promise<EntryRow> {
    const entry = await timeEntryRepository(db).find(visibleWorkspaceIds(p), id, true);
    if (!entry || !projectVisible(p, entry.workspace_id, entry.project_id) || (project && entry.project_id !== project.id)) throw errors.notFound('Time entry');
    return this.checkChange(p, entry);
  }

  /**
   * As loadForChange for the entry of the project that the slugs name, in one query where the
   * entry is that project's; otherwise the same answers as with the project looked up first.
   */
  private async loadForChangeBySlugs(db: Db, p: Principal, id: string, companySlug: string, projectSlug: string): Promise<{ entry: EntryRow; maxTimerMinutes: number }> {
    const entry = await timeEntryRepository(db).findWithSlugs(visibleWorkspaceIds(p), id);
    const same = entry && entry.workspace_slug.toLowerCase() === companySlug.toLowerCase() && entry.project_slug.toLowerCase() === projectSlug.toLowerCase();
    if (!entry || !same || !projectVisible(p, entry.workspace_id, entry.project_id)) {
      await this.projectBySlugs(db, p, companySlug, projectSlug);
      throw errors.notFound('Time entry');
    }
    authorize(p, entry.workspace_id, 'time:read', 'Project', entry.project_id);
    const { workspace_slug: _w, project_slug: _p, workspace_max_timer_minutes: maxTimerMinutes, ...row } = entry;
    return { entry: this.checkChange(p, row), maxTimerMinutes };
  }

  private checkChange(p: Principal, entry: EntryRow): EntryRow {
    const role = roleIn(p, entry.workspace_id)!;
    if (entry.user_id !== p.userId && !can(role, 'time:manage')) throw errors.notFound('Time entry');
    authorize(p, entry.workspace_id, entry.user_id === p.userId ? 'time:write' : 'time:manage', 'Time entry', entry.project_id);
    return entry;
  }

  /**
   * Stops a running timer now, or at the workspace's limit if it ran longer. Atomic by itself:
   * the entry is read, the entry after the stop computed here, and the update and its event are
   * one statement that applies only to the version read (a concurrent edit or stop makes it apply
   * to nothing, and the stop starts over from a fresh read). No lock, so no transaction: a stop
   * is two statements.
   */
  async stop(db: Db, p: Principal, id: string, slugs: { company_slug: string; project_slug: string }): Promise<EntryRow> {
    for (let attempt = 1; ; attempt++) {
      const { entry, maxTimerMinutes } = await this.loadForChangeBySlugs(db, p, id, slugs.company_slug, slugs.project_slug);
      if (entry.ended_at !== null) throw errors.conflict('This timer is not running', 'id', { entry: presentEntry(entry) }, 'TIMER_NOT_RUNNING');
      const now = this.now();
      const limit = new Date(entry.started_at.getTime() + maxTimerMinutes * 60_000);
      const autoStopped = now.getTime() > limit.getTime();
      const after: EntryRow = { ...entry, ended_at: autoStopped ? limit : now, auto_stopped: autoStopped, updated_at: now, version: entry.version + 1 };
      const event = eventRow(this.deps.ids, actorOf(p), this.eventOf(after, 'timer.stopped', presentEntry(entry)));
      if (await timeEntryRepository(db).stopWithEvent(entry.id, entry.version, after.ended_at!, autoStopped, now, event)) return after;
      // Each failed attempt means another write to the entry succeeded meanwhile.
      if (attempt === 10) throw errors.conflict('The timer kept changing while it was being stopped; try again', 'id', undefined, 'TIMER_BUSY');
    }
  }

  /**
   * The background job's pass: timers that have run longer than their workspace's maximum are
   * stopped at that limit, marked \`auto_stopped\`, each with its \`timer.stopped\` event (actor:
   * none, the server did it), in batches of one transaction each. Safe with several instances
   * running it at once (see \`stopOverdue\`). Returns how many it stopped.
   */
  async autoStopOverdue(batch = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const stopped = await inTransaction(this.deps.db, async (tx) => {
        const rows = await timeEntryRepository(tx).stopOverdue(this.now(), batch);
        for (const after of rows) {
          const before = presentEntry({ ...after, ended_at: null, auto_stopped: false });
          await this.event(tx, null, after, 'timer.stopped', before);
        }
        return rows.length;
      });
      total += stopped;
      if (stopped < batch) return total;
    }
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateTimeEntryInput, ifMatch: string | string[] | undefined): Promise<EntryRow> {
    const before = await this.loadForChange(tx, p, id);
    checkIfMatch(ifMatch, before.version);
    const changes: Parameters<ReturnType<typeof timeEntryRepository>['update']>[1] = {};
    if (input.description !== undefined) changes.description = input.description;
    if (input.billable !== undefined) changes.billable = input.billable;
    const timed = input.started_at !== undefined || input.ended_at !== undefined || input.duration_minutes !== undefined;
    if (timed) {
      if (input.ended_at !== undefined && input.duration_minutes !== undefined) throw errors.badRequest('Give `ended_at` or `duration_minutes`, not both', 'ended_at', 'PARAMETERS_CONFLICT');
      const start = input.started_at !== undefined ? instant(input.started_at, 'started_at') : before.started_at;
      if (before.ended_at === null) {
        if (input.ended_at !== undefined || input.duration_minutes !== undefined) {
          throw errors.unprocessable('A running timer ends when it is stopped', input.ended_at !== undefined ? 'ended_at' : 'duration_minutes', 'TIMER_RUNNING');
        }
        if (start.getTime() > this.now().getTime()) throw errors.unprocessable('A running timer cannot start in the future', 'started_at', 'INVALID_INTERVAL');
        changes.started_at = start;
      } else {
        const end =
          input.ended_at !== undefined
            ? instant(input.ended_at, 'ended_at')
            : input.duration_minutes !== undefined
              ? new Date(start.getTime() + input.duration_minutes * 60_000)
              : before.ended_at;
        checkInterval(start, end);
        changes.started_at = start;
        changes.ended_at = end;
      }
      await lockName(tx, `timer:${before.user_id}`);
      await this.checkOverlap(tx, before.workspace_id, before.user_id, changes.started_at, changes.ended_at ?? null, before.id);
    }
    const after = await timeEntryRepository(tx).update(before.id, changes, this.now());
    await this.event(tx, p, after, 'time_entry.updated', presentEntry(before));
    return after;
  }

  /** Idempotent: an entry that is gone, or was never the caller's to delete, answers the same 200. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined, project?: Project): Promise<{ id: number; deleted: true }> {
    const gone = { id: Number(/^[0-9]{1,16}$/.test(id) ? id : 0), deleted: true as const };
    let entry: EntryRow;
    try {
      entry = await this.loadForChange(tx, p, id, project);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return gone;
      throw err;
    }
    checkIfMatch(ifMatch, entry.version);
    await timeEntryRepository(tx).delete(entry.id);
    await recordEvent(tx, this.deps.ids, actorOf(p), {
      workspaceId: entry.workspace_id,
      projectId: entry.project_id,
      type: 'time_entry.deleted',
      resourceType: 'time_entry',
      resourceId: entry.id,
      data: presentEntry(entry),
    });
    return { id: Number(entry.id), deleted: true };
  }

  /** The entry's event; `p` null: the server did it on its own (the auto-stop job). */
  private async event(tx: Db, p: Principal | null, entry: EntryRow, type: string, before?: ReturnType<typeof presentEntry>): Promise<void> {
    await recordEvent(tx, this.deps.ids, p ? actorOf(p) : { userId: null, keyId: null }, this.eventOf(entry, type, before));
  }

  /** The event of a change to an entry: the entry as /v1 presents it, and what changed. */
  private eventOf(entry: EntryRow, type: string, before?: ReturnType<typeof presentEntry>): NewEvent {
    const data = presentEntry(entry);
    return {
      workspaceId: entry.workspace_id,
      projectId: entry.project_id,
      type,
      resourceType: 'time_entry',
      resourceId: entry.id,
      data,
      changes: before ? diff(before, data) : null,
    };
  }

  async get(p: Principal, id: string): Promise<EntryRow> {
    const entry = await timeEntryRepository(this.deps.db).find(visibleWorkspaceIds(p), id);
    if (!entry || !projectVisible(p, entry.workspace_id, entry.project_id)) throw errors.notFound('Time entry');
    authorize(p, entry.workspace_id, 'time:read', 'Time entry', entry.project_id);
    return entry;
  }

  /** Entries the caller can see, filtered. */
  async list(p: Principal, scope: Omit<EntryFilter, 'workspaceIds' | 'userId' | 'billable' | 'running' | 'from' | 'to'> & { workspaceIds?: string[] }, q: EntryListQuery) {
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'started_at', direction: 'desc' });
    let workspaceIds = scope.workspaceIds ?? visibleWorkspaceIds(p);
    let projectId = scope.projectId;
    if (p.projectId !== null) {
      if (projectId !== undefined && projectId !== p.projectId) workspaceIds = [];
      projectId = p.projectId;
    }
    const filter: EntryFilter = {
      workspaceIds,
      projectId,
      taskId: scope.taskId,
      userId: q.user,
      billable: q.billable === undefined ? undefined : q.billable === 'true',
      running: q.running === undefined ? undefined : q.running === 'true',
      from: filterInstant(q.from, 'from'),
      to: filterInstant(q.to, 'to'),
    };
    const { rows, total } = await timeEntryRepository(this.deps.db).list(filter, sort, page.perPage, page.offset);
    return { page, total, rows };
  }

  /** The caller's running timer in the project, or null. */
  async active(p: Principal, project: Project): Promise<EntryRow | null> {
    const running = await timeEntryRepository(this.deps.db).running(p.userId);
    return running && running.project_id === project.id ? running : null;
  }

  /** The task's entries: the task must be visible. */
  async listForTask(p: Principal, taskId: string, q: EntryListQuery) {
    const task = await taskRepository(this.deps.db).find(visibleWorkspaceIds(p), taskId);
    if (!task || !projectVisible(p, task.workspace_id, task.project_id)) throw errors.notFound('Task');
    authorize(p, task.workspace_id, 'time:read', 'Task', task.project_id);
    return this.list(p, { workspaceIds: [task.workspace_id], projectId: task.project_id, taskId: task.id }, q);
  }

  /** Interval input of the GitScrum surface (both times, or neither for a timer). */
  manualInterval(startedAt: string | undefined, endedAt: string | undefined): { start: Date; end: Date } | undefined {
    if (startedAt === undefined && endedAt === undefined) return undefined;
    if (startedAt === undefined) throw errors.badRequest('`started_at` is required with `ended_at`', 'started_at', 'PARAMETER_REQUIRED');
    if (endedAt === undefined) throw errors.badRequest('`ended_at` is required with `started_at`', 'ended_at', 'PARAMETER_REQUIRED');
    return { start: instant(startedAt, 'started_at'), end: instant(endedAt, 'ended_at') };
  }
}

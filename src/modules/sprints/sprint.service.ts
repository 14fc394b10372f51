import type { Db } from '../../db/database.ts';
import type { Sprint, SprintStatus } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Action } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { looksLikeId } from '../../lib/ids.ts';
import { resolveSort } from '../../lib/listing.ts';
import { toPage } from '../../lib/pagination.ts';
import type { ProjectService } from '../projects/project.service.ts';
import { recordTaskChange } from '../tasks/task.service.ts';
import { localMidnights } from '../time-reports/report.service.ts';
import { addDays, checkTimeZone, daysBetween, localDate, MAX_REPORT_DAYS } from '../time-reports/period.ts';
import { presentSprint } from './sprint.presenter.ts';
import { replaySprint } from './sprint-report.ts';
import { sprintRepository } from './sprint.repository.ts';
import { SPRINT_STATUSES, type SPRINT_SORTS, type CreateSprintInput, type EndSprintInput, type ListSprintsInput, type SprintReportInput, type UpdateSprintInput, type VelocityInput } from './sprint.schemas.ts';

const SORTS = { created_at: 'created_at', updated_at: 'updated_at', name: 'name', start_date: 'start_date' } as const satisfies Record<(typeof SPRINT_SORTS)[number], string>;

export interface SprintServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
  projects: ProjectService;
}

/** Planned dates: the last day on or after the first (422 otherwise). */
function checkDates(start: string | null, end: string | null): void {
  if (start !== null && end !== null && end < start) {
    throw errors.unprocessable('The sprint cannot end before it starts: end_date must be on or after start_date', 'end_date', 'INVALID_DATES');
  }
}

export class SprintService {
  constructor(private readonly deps: SprintServiceDeps) {}

  /** A visible sprint and the caller's right to `action` on it, or 404/403. */
  private async load(db: Db, p: Principal, id: string, action: Action, lock = false): Promise<Sprint> {
    const sprint = await sprintRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!sprint || !projectVisible(p, sprint.workspace_id, sprint.project_id)) throw errors.notFound('Sprint');
    authorize(p, sprint.workspace_id, action, 'Sprint', sprint.project_id);
    return sprint;
  }

  async list(p: Principal, projectId: string, q: ListSprintsInput) {
    const project = await this.deps.projects.load(this.deps.db, p, projectId, 'sprint:read');
    const statuses = q.status?.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of statuses ?? []) {
      if (!SPRINT_STATUSES.includes(s as SprintStatus)) throw errors.badRequest(`\`status\` must be one of: ${SPRINT_STATUSES.join(', ')}`, 'status');
    }
    const page = toPage(q);
    const sort = resolveSort(q.sort, q.order, SORTS, { column: 'created_at', direction: 'desc' });
    const { rows, total } = await sprintRepository(this.deps.db).list(project.id, statuses as SprintStatus[] | undefined, sort, page.perPage, page.offset);
    return { page, total, items: rows.map(presentSprint) };
  }

  /** `GET /v1/projects/:id/velocity`: what the last completed sprints committed and completed. */
  async velocity(p: Principal, projectId: string, q: VelocityInput) {
    const project = await this.deps.projects.load(this.deps.db, p, projectId, 'sprint:read');
    const sprints = (await sprintRepository(this.deps.db).lastCompleted(project.id, q.sprints ?? 5)).reverse();
    const mean = (f: (s: Sprint) => number) => Math.round((sprints.reduce((n, s) => n + f(s), 0) / sprints.length) * 100) / 100;
    return {
      sprints: sprints.map((s) => {
        const shown = presentSprint(s);
        return { id: s.id, name: s.name, started_at: shown.started_at!, ended_at: shown.ended_at!, committed: shown.committed, completed: shown.completed };
      }),
      average_completed: sprints.length === 0 ? null : { tasks: mean((s) => s.completed_tasks ?? 0), estimated_minutes: mean((s) => s.completed_minutes ?? 0) },
    };
  }

  /**
   * `GET /v1/sprints/:id/report`: what the sprint committed to and completed, what joined and left
   * it while it ran, and its burndown: what it held at the end of each day (in `tz`, by default the
   * workspace's), from the day it started to the day it ended (or to today, or to its planned last
   * day if that is later).
   */
  async report(p: Principal, id: string, q: SprintReportInput) {
    const db = this.deps.db;
    const sprint = await this.load(db, p, id, 'sprint:read');
    if (sprint.status === 'planned') {
      throw errors.conflict('This sprint has not started; its report begins when it starts', 'id', { sprint: presentSprint(sprint) }, 'SPRINT_NOT_STARTED');
    }
    const repo = sprintRepository(db);
    const [context, log] = await Promise.all([repo.context(sprint.project_id), repo.log(sprint.id)]);
    const tz = q.tz === undefined ? context.time_zone : checkTimeZone(q.tz);
    const now = this.deps.clock.now();
    const startedAt = sprint.started_at!;
    const started = localDate(startedAt, tz);
    const today = localDate(now, tz);
    const last = sprint.ended_at ? localDate(sprint.ended_at, tz) : sprint.end_date !== null && sprint.end_date > today ? sprint.end_date : today;
    // A sprint that ran for over a year shows its last year.
    const first = daysBetween(started, last) >= MAX_REPORT_DAYS ? addDays(last, 1 - MAX_REPORT_DAYS) : started;
    const midnights = (await localMidnights(db, tz, first, last)).map((t) => t * 1000);
    const committed = { tasks: sprint.committed_tasks ?? 0, estimated_minutes: sprint.committed_minutes ?? 0 };
    const replay = replaySprint({
      log,
      finished: new Set(context.done),
      startedAt: startedAt.getTime(),
      cutoff: sprint.ended_at?.getTime() ?? Infinity,
      now: now.getTime(),
      days: Array.from({ length: daysBetween(first, last) + 1 }, (_, i) => addDays(first, i)),
      midnights,
      firstDay: daysBetween(started, first),
      plannedDays: daysBetween(started, sprint.end_date !== null && sprint.end_date > started ? sprint.end_date : last) + 1,
      committed,
    });
    const shown = presentSprint(sprint);
    return {
      sprint: shown,
      time_zone: tz,
      committed,
      completed: shown.completed ?? replay.completed,
      remaining: replay.remaining,
      scope_added: replay.added,
      scope_removed: replay.removed,
      burndown: replay.burndown,
    };
  }

  async get(p: Principal, id: string) {
    const sprint = await this.load(this.deps.db, p, id, 'sprint:read');
    return { sprint: presentSprint(sprint), version: sprint.version };
  }

  async create(tx: Db, p: Principal, projectId: string, input: CreateSprintInput) {
    const project = await this.deps.projects.load(tx, p, projectId, 'sprint:write');
    const start = input.start_date ?? null;
    const end = input.end_date ?? null;
    checkDates(start, end);
    const now = this.deps.clock.now();
    const sprint = await sprintRepository(tx).insert({
      id: this.deps.ids.next('spr'),
      workspace_id: project.workspace_id,
      project_id: project.id,
      name: input.name,
      goal: input.goal ?? '',
      start_date: start,
      end_date: end,
      created_at: now,
      updated_at: now,
    });
    const data = presentSprint(sprint);
    await this.event(tx, p, sprint, 'sprint.created', data);
    return data;
  }

  async update(tx: Db, p: Principal, id: string, input: UpdateSprintInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'sprint:write', true);
    checkIfMatch(ifMatch, before.version);
    const changes: Partial<Pick<Sprint, 'name' | 'goal' | 'start_date' | 'end_date'>> = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.goal !== undefined) changes.goal = input.goal;
    if (input.start_date !== undefined) changes.start_date = input.start_date;
    if (input.end_date !== undefined) changes.end_date = input.end_date;
    checkDates(changes.start_date !== undefined ? changes.start_date : before.start_date, changes.end_date !== undefined ? changes.end_date : before.end_date);
    const after = await sprintRepository(tx).update(id, changes, this.deps.clock.now());
    const data = presentSprint(after);
    await this.event(tx, p, after, 'sprint.updated', data, diff(presentSprint(before), data));
    return { sprint: data, version: after.version };
  }

  /**
   * Starts a planned sprint: what it holds now is its commitment. One active sprint per project
   * (the database's rule, so that of two starts at once exactly one wins); 409 otherwise.
   */
  async start(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'sprint:write', true);
    checkIfMatch(ifMatch, before.version);
    if (before.status !== 'planned') {
      throw errors.conflict(`This sprint is ${before.status}: only a planned sprint can start`, 'id', { sprint: presentSprint(before) }, 'SPRINT_NOT_PLANNED');
    }
    const repo = sprintRepository(tx);
    const active = await repo.active(before.project_id);
    if (active) throw errors.conflict('The project already has an active sprint; end it first', 'id', { active_sprint: presentSprint(active) }, 'SPRINT_ALREADY_ACTIVE');
    const tally = await repo.tally(id);
    const now = this.deps.clock.now();
    const after = await repo.update(id, { status: 'active', started_at: now, committed_tasks: tally.tasks, committed_minutes: tally.minutes }, now);
    const data = presentSprint(after);
    await this.event(tx, p, after, 'sprint.started', data, diff(presentSprint(before), data));
    return { sprint: data, version: after.version };
  }

  /**
   * Ends the active sprint: records what of it was finished, and moves its unfinished tasks to the
   * backlog or to another of the project's planned sprints (each with its task.updated event).
   */
  async end(tx: Db, p: Principal, id: string, input: EndSprintInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, 'sprint:write', true);
    checkIfMatch(ifMatch, before.version);
    if (before.status !== 'active') {
      throw errors.conflict(`This sprint is ${before.status}: only the active sprint can end`, 'id', { sprint: presentSprint(before) }, 'SPRINT_NOT_ACTIVE');
    }
    const repo = sprintRepository(tx);
    const target = input.move_to === undefined || input.move_to === 'backlog' ? null : input.move_to;
    if (target !== null) {
      const next = target !== id && looksLikeId('spr', target) ? await repo.findInProject(before.project_id, target) : undefined;
      if (!next) throw errors.unprocessable("`move_to` must be `backlog` or another of the project's sprints", 'move_to', 'INVALID_SPRINT');
      if (next.status !== 'planned') throw errors.unprocessable(`\`move_to\` names a sprint that is ${next.status}; name one that has not started`, 'move_to', 'INVALID_SPRINT');
    }
    const tally = await repo.tally(id);
    const now = this.deps.clock.now();
    const moved = await repo.moveTasks(id, target, true, now);
    for (const m of moved) await recordTaskChange(tx, this.deps.ids, p, m.before, m.after, 'task.updated');
    const after = await repo.update(id, { status: 'completed', ended_at: now, completed_tasks: tally.finished, completed_minutes: tally.finishedMinutes }, now);
    const data = presentSprint(after);
    await this.event(tx, p, after, 'sprint.ended', data, diff(presentSprint(before), data));
    return { sprint: data, version: after.version };
  }

  /** Idempotent: a sprint that is gone, or was never visible, answers the same 200. Its tasks return to the backlog. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await sprintRepository(tx).find(visibleWorkspaceIds(p), id, true);
    if (!found || !projectVisible(p, found.workspace_id, found.project_id)) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'sprint:write', 'Sprint', found.project_id);
    checkIfMatch(ifMatch, found.version);
    if (found.status === 'active') throw errors.conflict('The sprint is active; end it before deleting it', 'id', undefined, 'SPRINT_ACTIVE');
    const repo = sprintRepository(tx);
    const moved = await repo.moveTasks(id, null, false, this.deps.clock.now());
    for (const m of moved) await recordTaskChange(tx, this.deps.ids, p, m.before, m.after, 'task.updated');
    await repo.delete(id);
    await this.event(tx, p, found, 'sprint.deleted', presentSprint(found));
    return { id, deleted: true as const };
  }

  private event(tx: Db, p: Principal, s: Sprint, type: string, data: unknown, changes?: Record<string, { from: unknown; to: unknown }>) {
    return recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: s.workspace_id, projectId: s.project_id, type, resourceType: 'sprint', resourceId: s.id, data, changes });
  }
}

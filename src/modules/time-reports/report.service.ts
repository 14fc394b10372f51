import type { Db } from '../../db/database.ts';
import type { ParallelReads } from '../../db/parallel-reads.ts';
import type { Project } from '../../db/schema.ts';
import { errors } from '../../http/errors.ts';
import type { Principal } from '../../http/principal.ts';
import type { Clock } from '../../lib/clock.ts';
import { toPage, type PageQuery } from '../../lib/pagination.ts';
import { iso } from '../../lib/time.ts';
import type { TimeEntryService } from '../time-entries/time-entry.service.ts';
import { timeEntryRepository } from '../time-entries/time-entry.repository.ts';
import { addDays, checkTimeZone, elapsedDays, isoWeek, localDate, resolvePeriod, weekStart, type Period } from './period.ts';
import { group, productivity, type Dimension, type Group as GroupRow } from './aggregate.ts';
import { reportRepository, type ReportScope } from './report.repository.ts';

/** An entry counts as focus time when it lasts at least this long in all (a pomodoro). */
export const FOCUS_MINUTES = 25;
/** How many users `top_contributors` names. */
const TOP_CONTRIBUTORS = 5;
export const GROUP_BY = ['user', 'task', 'day', 'week', 'month', 'label', 'billable'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export interface ReportQuery {
  company_slug: string;
  project_slug: string;
  period?: string;
  start?: string;
  end?: string;
  users?: string;
  billable?: 'true' | 'false';
  tz?: string;
}

/** Hours from seconds, to two decimals (the exact figure is the `*_seconds` one beside it). */
export function hours(seconds: number): number {
  return Math.round(seconds / 36) / 100;
}

export interface ResolvedReport {
  project: Project & { workspace_time_zone: string };
  scope: ReportScope;
  period: Period & { tz: string; from: Date; to: Date };
  today: string;
  /** Epoch seconds of the midnights from the period's first day to the day after its last. */
  midnights: number[];
}

export interface ReportServiceDeps {
  db: Db;
  clock: Clock;
  timeEntries: TimeEntryService;
  /**
   * Splits the reading of a report's entries over sessions on PostgreSQL, whose sessions run on
   * cores of their own (same-hour A/B on 2 cores, 90 days of the benchmark's data: team 30 ms a
   * report instead of 36, productivity 36 instead of 42). Absent: one statement.
   */
  parallel?: ParallelReads;
}

/**
 * The instants (epoch seconds) of the midnights in `tz` from `start` to the day after `end`, as
 * the database computes them; a zone the database does not know is a 400 INVALID_TIME_ZONE.
 */
export async function localMidnights(db: Db, tz: string, start: string, end: string): Promise<number[]> {
  try {
    return await reportRepository(db).midnights(tz, start, end);
  } catch (err) {
    if ((err as { code?: string }).code === '22023') throw errors.badRequest(`Unknown time zone ${JSON.stringify(tz)}`, 'tz', 'INVALID_TIME_ZONE');
    throw err;
  }
}

export class TimeReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  /** The project, time zone, period and filters a report request names; 400/404/422 otherwise. */
  async resolve(p: Principal, q: ReportQuery): Promise<ResolvedReport> {
    const db = this.deps.db;
    const project = await this.deps.timeEntries.projectBySlugs(db, p, q.company_slug, q.project_slug);
    const repo = reportRepository(db);
    const tz = q.tz === undefined ? project.workspace_time_zone : checkTimeZone(q.tz);
    // Today's date only picks the period; every instant is the database's.
    const today = localDate(this.deps.clock.now(), tz);
    const period = resolvePeriod(q, today);
    const midnights = await localMidnights(db, tz, period.start, period.end);
    const bounds = { from: new Date(midnights[0]! * 1000), to: new Date(midnights.at(-1)! * 1000) };
    const scope: ReportScope = { projectId: project.id, tz, start: period.start, end: period.end };
    if (q.users !== undefined) {
      const values = q.users.split(',').map((v) => v.trim()).filter((v) => v !== '');
      if (values.length === 0) throw errors.badRequest('`users` names no user', 'users');
      if (values.length > 100) throw errors.badRequest('`users` names at most 100 users', 'users');
      scope.userIds = await repo.resolveUsers(values);
    }
    if (q.billable !== undefined) scope.billable = q.billable === 'true';
    return { project, scope, period: { ...period, tz, ...bounds }, today, midnights };
  }

  private entries(r: ResolvedReport, withIds = false) {
    return reportRepository(this.deps.db).entries(r.scope, r.midnights[0]!, r.midnights.at(-1)!, { withIds, parallel: this.deps.parallel });
  }

  private async groups(r: ResolvedReport, dims: Dimension[]): Promise<Map<Dimension, GroupRow[]>> {
    // On PostgreSQL the queries run at once, on connections of their own.
    const [entries, tasksByLabel] = await Promise.all([this.entries(r), dims.includes('label') ? reportRepository(this.deps.db).labels(r.project.id) : undefined]);
    return group(entries, r.midnights, dims, { dates: datesOf(r.period), tasksByLabel, weekOf: weekStart });
  }

  private async usersById(ids: string[]) {
    return new Map((await reportRepository(this.deps.db).users(ids)).map((u) => [u.id, u]));
  }

  /** `GET /time-trackings/analytics`. */
  async analytics(p: Principal, q: ReportQuery) {
    const r = await this.resolve(p, q);
    const g = await this.groups(r, ['total', 'user', 'day', 'label']);
    const total = totalOf(g);
    const users = await this.usersById(g.get('user')!.map((row) => row.key!));
    const days = new Map(g.get('day')!.map((row) => [row.key!, row.seconds]));
    return {
      total_hours: hours(total.seconds),
      average_daily_hours: hours(total.seconds / elapsedDays(r.period, r.today)),
      top_contributors: byTime(g.get('user')!)
        .slice(0, TOP_CONTRIBUTORS)
        .map((row) => {
          const u = users.get(row.key!);
          return { username: u?.username ?? '', name: u?.name ?? '', total_hours: hours(row.seconds), total_seconds: row.seconds, tasks_tracked: row.tasks };
        }),
      by_task_type: byTime(g.get('label')!).map((row) => ({ type: row.key, total_hours: hours(row.seconds), total_seconds: row.seconds, tasks_tracked: row.tasks })),
      trend: datesOf(r.period).map((date) => ({ date, total_hours: hours(days.get(date) ?? 0), total_seconds: days.get(date) ?? 0 })),
      total_seconds: total.seconds,
      entries: total.entries,
      period: presentPeriod(r),
    };
  }

  /** `GET /time-trackings/team`: every member of the workspace (and anyone else with time in the period). */
  async team(p: Principal, q: ReportQuery) {
    const r = await this.resolve(p, q);
    const g = await this.groups(r, ['total', 'user']);
    const repo = reportRepository(this.deps.db);
    const tracked = new Map(g.get('user')!.map((row) => [row.key!, row]));
    const people = new Map((await repo.members(r.project.workspace_id)).map((u) => [u.id, u]));
    for (const u of await repo.users([...tracked.keys()].filter((id) => !people.has(id)))) people.set(u.id, u);
    const shown = [...people.values()].filter((u) => r.scope.userIds === undefined || r.scope.userIds.includes(u.id));
    const members = shown.map((u) => {
      const row = tracked.get(u.id);
      const seconds = row?.seconds ?? 0;
      return { username: u.username, name: u.name, total_hours: hours(seconds), total_seconds: seconds, tasks_tracked: row?.tasks ?? 0, entries: row?.entries ?? 0 };
    });
    members.sort((a, b) => b.total_seconds - a.total_seconds || a.username.localeCompare(b.username));
    const total = totalOf(g);
    return { team_members: members, total_hours: hours(total.seconds), total_seconds: total.seconds, period: presentPeriod(r) };
  }

  /** `GET /time-trackings/reports`: the period's time grouped one way. */
  async report(p: Principal, q: ReportQuery & { group_by?: string }) {
    const groupBy = (q.group_by ?? 'user') as GroupBy;
    if (!GROUP_BY.includes(groupBy)) throw errors.badRequest(`\`group_by\` must be one of ${GROUP_BY.join(', ')}`, 'group_by');
    const r = await this.resolve(p, q);
    const g = await this.groups(r, ['total', groupBy]);
    const total = totalOf(g);
    const rows = g.get(groupBy)!;
    return {
      group_by: groupBy,
      total_hours: hours(total.seconds),
      total_seconds: total.seconds,
      entries: total.entries,
      groups: await this.presentGroups(r, groupBy, rows),
      period: presentPeriod(r),
    };
  }

  private async presentGroups(r: ResolvedReport, groupBy: GroupBy, rows: GroupRow[]): Promise<ReportGroup[]> {
    const group = (key: string | null, name: string, row: GroupRow | undefined, extra: Partial<ReportGroup> = {}): ReportGroup => ({
      key,
      name,
      hours: hours(row?.seconds ?? 0),
      seconds: row?.seconds ?? 0,
      entries: row?.entries ?? 0,
      tasks: row?.tasks ?? 0,
      ...extra,
    });
    const byKey = new Map(rows.map((row) => [row.key, row]));
    switch (groupBy) {
      case 'user': {
        const users = await this.usersById(rows.map((row) => row.key!));
        return byTime(rows).map((row) => {
          const u = users.get(row.key!);
          return group(u?.username ?? row.key, u?.name ?? '', row, { user: { id: row.key!, username: u?.username ?? '', name: u?.name ?? '' } });
        });
      }
      case 'task': {
        const tasks = new Map((await reportRepository(this.deps.db).tasks(rows.map((row) => row.key!))).map((t) => [t.id, t]));
        return byTime(rows).map((row) => {
          const t = tasks.get(row.key!);
          return group(t?.uuid ?? row.key, t?.title ?? '', row, { task: { id: row.key!, uuid: t?.uuid ?? '', number: t?.number ?? 0, title: t?.title ?? '' } });
        });
      }
      case 'day':
        return datesOf(r.period).map((date) => group(date, date, byKey.get(date), { start_date: date, end_date: date }));
      case 'week': {
        const weeks: ReportGroup[] = [];
        for (const date of datesOf(r.period)) {
          const week = isoWeek(date);
          if (weeks.at(-1)?.key === week) weeks.at(-1)!.end_date = date;
          // The aggregate keys a week by its Monday, which may fall before the period.
          else weeks.push(group(week, week, byKey.get(weekStart(date)), { start_date: date, end_date: date }));
        }
        return weeks;
      }
      case 'month': {
        const months: ReportGroup[] = [];
        for (const date of datesOf(r.period)) {
          const month = date.slice(0, 7);
          if (months.at(-1)?.key === month) months.at(-1)!.end_date = date;
          else months.push(group(month, month, byKey.get(`${month}-01`), { start_date: date, end_date: date }));
        }
        return months;
      }
      case 'billable':
        return byTime(rows).map((row) => group(row.key, row.key === 'true' ? 'Billable' : 'Not billable', row, { billable: row.key === 'true' }));
      case 'label':
        return byTime(rows).map((row) => group(row.key, row.key ?? '(no label)', row));
    }
  }

  /**
   * `GET /time-trackings/productivity`: focus time (entries lasting at least 25 minutes), context
   * switches (consecutive entries of a day on different tasks), sessions and an efficiency score.
   */
  async productivity(p: Principal, q: ReportQuery) {
    const r = await this.resolve(p, q);
    const rows = productivity(await this.entries(r, true), r.midnights, FOCUS_MINUTES * 60);
    const users = await this.usersById(rows.map((row) => row.user_id));
    const figures = (seconds: number, focus: number, sessions: number, switches: number) => ({
      total_hours: hours(seconds),
      total_seconds: seconds,
      focus_hours: hours(focus),
      focus_seconds: focus,
      sessions,
      average_session_minutes: sessions === 0 ? 0 : Math.round((seconds / sessions / 60) * 10) / 10,
      context_switches: switches,
      efficiency_score: seconds === 0 ? null : Math.round((100 * focus) / seconds),
    });
    const byUser = rows
      .map((row) => ({ username: users.get(row.user_id)?.username ?? '', name: users.get(row.user_id)?.name ?? '', ...figures(row.seconds, row.focus_seconds, row.sessions, row.switches) }))
      .sort((a, b) => b.total_seconds - a.total_seconds || a.username.localeCompare(b.username));
    const sum = (f: (row: (typeof rows)[number]) => number) => rows.reduce((n, row) => n + f(row), 0);
    return {
      ...figures(sum((x) => x.seconds), sum((x) => x.focus_seconds), sum((x) => x.sessions), sum((x) => x.switches)),
      focus_threshold_minutes: FOCUS_MINUTES,
      by_user: byUser,
      period: presentPeriod(r),
    };
  }

  /** `GET /time-trackings/timeline`: the period's entries (running ones too) by start. */
  async timeline(p: Principal, q: ReportQuery & PageQuery) {
    const r = await this.resolve(p, q);
    const page = toPage(q);
    if (r.scope.userIds?.length === 0) return { r, page, total: 0, rows: [] };
    const { rows, total } = await timeEntryRepository(this.deps.db).list(
      {
        workspaceIds: [r.project.workspace_id],
        projectId: r.project.id,
        userIds: r.scope.userIds,
        billable: r.scope.billable,
        from: r.period.from,
        to: r.period.to,
      },
      { column: 'started_at', direction: 'asc' },
      page.perPage,
      page.offset,
    );
    return { r, page, total, rows };
  }
}

export interface ReportGroup {
  key: string | null;
  name: string;
  hours: number;
  seconds: number;
  entries: number;
  tasks: number;
  start_date?: string;
  end_date?: string;
  user?: { id: string; username: string; name: string };
  task?: { id: string; uuid: string; number: number; title: string };
  billable?: boolean;
}

function totalOf(g: Map<Dimension, GroupRow[]>) {
  return g.get('total')![0] ?? { seconds: 0, entries: 0, tasks: 0 };
}

/** Most time first; ties by key, so that the order is stable. */
function byTime(rows: GroupRow[]): GroupRow[] {
  return [...rows].sort((a, b) => b.seconds - a.seconds || String(a.key).localeCompare(String(b.key)));
}

function datesOf(p: Period): string[] {
  return Array.from({ length: p.days }, (_, i) => addDays(p.start, i));
}

export function presentPeriod(r: ResolvedReport) {
  return {
    start: r.period.start,
    end: r.period.end,
    days: r.period.days,
    tz: r.period.tz,
    starts_at: iso(r.period.from),
    ends_at: iso(r.period.to),
  };
}

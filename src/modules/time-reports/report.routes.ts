import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList } from '../../http/reply.ts';
import { List, One, withErrors } from '../../http/schemas.ts';
import { presentTracking } from '../time-entries/time-entry.presenter.ts';
import { TrackingSchema } from '../time-entries/time-entry.schemas.ts';
import { toCsv } from './csv.ts';
import { AnalyticsSchema, GroupedReportQuery, ProductivitySchema, ReportQuerySchema, ReportSchema, TeamSchema, TimelineQuery } from './report.schemas.ts';

const tags = ['Time tracking (GitScrum-style)'];

/** Whether the client asks for CSV before JSON (`Accept: text/csv`). */
function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { type: string; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if ((type === 'text/csv' || type === 'application/json') && (!best || q > best.q)) best = { type, q: Number.isFinite(q) ? q : 0 };
  }
  return best?.type === 'text/csv' && best.q > 0;
}

/** The report endpoints of `spec/time-tracking.txt`: analytics, team, reports, productivity, timeline. */
export function timeReportRoutes(app: App, deps: Deps): void {
  const svc = deps.services.timeReports;

  app.get('/time-trackings/analytics', {
    schema: { operationId: 'getTimeTrackingAnalytics', summary: "A project's tracked time: total, daily average, top contributors, by label, daily trend", tags, querystring: ReportQuerySchema, response: withErrors({ 200: One(AnalyticsSchema) }, 422) },
  }, async (req) => ({ data: await svc.analytics(req.principal!, req.query) }));

  app.get('/time-trackings/team', {
    schema: { operationId: 'getTimeTrackingTeam', summary: "Each member's tracked time in a project", tags, querystring: ReportQuerySchema, response: withErrors({ 200: One(TeamSchema) }, 422) },
  }, async (req) => ({ data: await svc.team(req.principal!, req.query) }));

  app.get('/time-trackings/reports', {
    schema: {
      operationId: 'getTimeTrackingReport',
      summary: "A project's tracked time grouped by user, task, day, week, month, label or billable (JSON, or CSV with Accept: text/csv)",
      tags,
      querystring: GroupedReportQuery,
      response: withErrors({ 200: One(ReportSchema) }, 422),
    },
  }, async (req, reply) => {
    const report = await svc.report(req.principal!, req.query);
    void reply.header('vary', 'Accept');
    if (!wantsCsv(req.headers.accept)) return { data: report };
    const rows = report.groups.map((g) => [g.key ?? '', g.name, g.seconds, g.hours, g.entries, g.tasks]);
    const filename = `time-report-${req.query.project_slug}-${report.period.start}-${report.period.end}-by-${report.group_by}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .send(toCsv([report.group_by, 'name', 'seconds', 'hours', 'entries', 'tasks'], rows));
  });

  app.get('/time-trackings/productivity', {
    schema: { operationId: 'getTimeTrackingProductivity', summary: 'Focus time, context switches and efficiency in a project', tags, querystring: ReportQuerySchema, response: withErrors({ 200: One(ProductivitySchema) }, 422) },
  }, async (req) => ({ data: await svc.productivity(req.principal!, req.query) }));

  app.get('/time-trackings/timeline', {
    schema: {
      operationId: 'getTimeTrackingTimeline',
      summary: "A project's entries in the period (running timers too), in order of start",
      tags,
      querystring: TimelineQuery,
      response: withErrors({ 200: List(TrackingSchema) }, 422),
    },
  }, async (req, reply) => {
    const t = await svc.timeline(req.principal!, req.query);
    return sendList(req, reply, { page: t.page, total: t.total, items: t.rows.map(presentTracking) });
  });
}

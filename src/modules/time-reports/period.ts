// The calendar arithmetic of report periods: local dates (YYYY-MM-DD) in the report's time zone.
// Dates are computed as UTC calendar days, where every day has 24 hours; the time zone only comes
// in when the database turns a date's midnight into an instant.
import { errors } from '../../http/errors.ts';
import { isValidTimeZone } from '../../lib/time.ts';

export const PERIODS = ['today', 'yesterday', 'last-7-days', 'last-14-days', 'last-30-days', 'this-month', 'last-month'] as const;
export type PeriodPreset = (typeof PERIODS)[number];

/** The longest range a report covers, in days (PRODUCT.md, "Limits"). */
export const MAX_REPORT_DAYS = 366;
const DAY_MS = 86_400_000;

/** A report's days: `start` to `end`, both included, in `tz`. */
export interface Period {
  start: string;
  end: string;
  /** Days from start to end, both included. */
  days: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function toDay(date: string, param: string): number {
  const m = DATE.exec(date);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) {
    throw errors.badRequest(`\`${param}\` must be a date, YYYY-MM-DD`, param);
  }
  return t / DAY_MS;
}

export function fromDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, n: number): string {
  return fromDay(toDay(date, 'date') + n);
}

/** Days from `a` to `b` (b − a). */
export function daysBetween(a: string, b: string): number {
  return toDay(b, 'date') - toDay(a, 'date');
}

function firstOfMonth(date: string, monthsBack: number): string {
  const [y, m] = date.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - monthsBack, 1)).toISOString().slice(0, 10);
}

function span(start: string, end: string): Period {
  return { start, end, days: daysBetween(start, end) + 1 };
}

/**
 * The period a report covers, from a preset or from `start`/`end` (dates; `end` defaults to
 * today, or to `start` if that is later), given today's date in the report's time zone. Without
 * either: the last 30 days.
 */
export function resolvePeriod(q: { period?: string; start?: string; end?: string }, today: string): Period {
  if (q.period !== undefined && (q.start !== undefined || q.end !== undefined)) {
    throw errors.badRequest('Give `period` or `start`/`end`, not both', 'period', 'PARAMETERS_CONFLICT');
  }
  if (q.start !== undefined || q.end !== undefined) {
    if (q.start === undefined) throw errors.badRequest('`start` is required with `end`', 'start', 'PARAMETER_REQUIRED');
    const start = q.start;
    toDay(start, 'start');
    const end = q.end ?? (daysBetween(today, start) > 0 ? start : today);
    toDay(end, 'end');
    if (daysBetween(start, end) < 0) throw errors.unprocessable('`end` must not be before `start`', 'end', 'INVALID_RANGE');
    const p = span(start, end);
    if (p.days > MAX_REPORT_DAYS) throw errors.unprocessable(`A report covers at most ${MAX_REPORT_DAYS} days`, 'end', 'RANGE_TOO_LONG');
    return p;
  }
  switch ((q.period ?? 'last-30-days') as PeriodPreset) {
    case 'today':
      return span(today, today);
    case 'yesterday':
      return span(addDays(today, -1), addDays(today, -1));
    case 'last-7-days':
      return span(addDays(today, -6), today);
    case 'last-14-days':
      return span(addDays(today, -13), today);
    case 'last-30-days':
      return span(addDays(today, -29), today);
    case 'this-month':
      return span(firstOfMonth(today, 0), addDays(firstOfMonth(today, -1), -1));
    case 'last-month':
      return span(firstOfMonth(today, 1), addDays(firstOfMonth(today, 0), -1));
    default:
      throw errors.badRequest(`\`period\` must be one of ${PERIODS.join(', ')}`, 'period', 'INVALID_PERIOD');
  }
}

/** Days of the period up to and including today (at least 1): what daily averages divide by. */
export function elapsedDays(p: Period, today: string): number {
  const upTo = daysBetween(p.start, today) + 1;
  return Math.max(1, Math.min(p.days, upTo));
}

/** The ISO 8601 week of a date: its year and number, as `2026-W03`. */
export function isoWeek(date: string): string {
  const day = toDay(date, 'date');
  const weekday = (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // Monday 0
  const thursday = day - weekday + 3;
  const year = new Date(thursday * DAY_MS).getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1) / DAY_MS;
  const week = Math.floor((thursday - jan1) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday that starts a date's ISO week. */
export function weekStart(date: string): string {
  const day = toDay(date, 'date');
  return fromDay(day - ((new Date(day * DAY_MS).getUTCDay() + 6) % 7));
}

/** `tz` if it is an IANA time zone the server knows; 400 `INVALID_TIME_ZONE` otherwise. */
export function checkTimeZone(tz: string): string {
  // The pattern keeps out POSIX-style zones ("UTC+3"), whose sign PostgreSQL reads backwards.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz) || !isValidTimeZone(tz)) {
    throw errors.badRequest(`Unknown time zone ${JSON.stringify(tz)}: give an IANA zone such as Europe/Berlin`, 'tz', 'INVALID_TIME_ZONE');
  }
  return tz;
}

/** The date of an instant in a time zone, YYYY-MM-DD. */
export function localDate(at: Date, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

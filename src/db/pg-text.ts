// How values in PostgreSQL's text output become JavaScript values, the same on both databases:
// node-postgres's type parsers (pg-types), with these overrides.
// - `date` stays a 'YYYY-MM-DD' string: a Date would shift it by the process's time zone.
// - `timestamptz` is read digit by digit: the generic parsers send V8 down its slow legacy date
//   parser (about 1 µs a value, two per task).
// - `int8` (counts, sequences) stays a string, as node-postgres has it; SQL casts what it sums.
import pgTypes from 'pg-types';
import { ISO_SECONDS } from '../lib/time.ts';

/** Digits s[start, end) as a number, or NaN if any is not a digit. */
function digits(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function fallback(s: string): Date | number {
  if (s === 'infinity') return Infinity;
  if (s === '-infinity') return -Infinity;
  return new Date(s);
}

/**
 * A timestamptz as PostgreSQL prints it with DateStyle ISO: `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`.
 * Anything else (BC dates, years past 9999 or before 100, infinity) takes the generic path, which
 * gives the same results PGlite's own parser does.
 */
export function parseTimestamptz(s: string): Date | number {
  if (s.length < 22 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return fallback(s);
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const fraction = s.slice(start, Math.min(i, start + 3)).padEnd(3, '0');
    ms = digits(fraction, 0, 3);
  }
  const sign = s.charCodeAt(i) === 43 ? 1 : s.charCodeAt(i) === 45 ? -1 : 0;
  if (sign === 0 || year < 100) return fallback(s);
  const rest = s.length - i - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return fallback(s);
  const offsetHours = digits(s, i + 1, i + 3);
  const offsetMinutes = rest >= 5 ? digits(s, i + 4, i + 6) : 0;
  const offsetSeconds = rest === 8 ? digits(s, i + 7, i + 9) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - sign * ((offsetHours * 60 + offsetMinutes) * 60 + offsetSeconds) * 1000;
  if (Number.isNaN(utc)) return fallback(s);
  const date = new Date(utc);
  // In UTC the text already is the API's form, to the second (see iso()).
  if (rest === 2 && offsetHours === 0) (date as Date & { [ISO_SECONDS]?: string })[ISO_SECONDS] = `${s.slice(0, 10)}T${s.slice(11, 19)}Z`;
  return date;
}

const DATE_OID = 1082;
const TIMESTAMPTZ_OID = 1184;

export type TextParser = (value: string) => unknown;

let installed = false;

/** Installs the overrides into pg-types, which node-postgres also uses. Idempotent. */
export function installTypeParsers(): void {
  if (installed) return;
  pgTypes.setTypeParser(DATE_OID, (value: string) => value);
  pgTypes.setTypeParser(TIMESTAMPTZ_OID, parseTimestamptz);
  installed = true;
}

/** The parser of a column of the given type OID. */
export function textParser(oid: number): TextParser {
  installTypeParsers();
  return pgTypes.getTypeParser(oid, 'text') as TextParser;
}

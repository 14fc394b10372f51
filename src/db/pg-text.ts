// How values in PostgreSQL's text output become JavaScript values, the same on both databases:
// node-postgres's type parsers (pg-types), with these overrides.
// - `date` stays a 'YYYY-MM-DD' string: a Date would shift it by the process's time zone.
// - `timestamptz` is read digit by digit: the generic parsers send V8 down its slow legacy date
//   parser (about 1 µs a value, two per task).
// - `int8` (counts, sequences) stays a string, as node-postgres has it; SQL casts what it sums.
// - `text[]` (labels) is split directly when no element is quoted or escaped, which is how
//   PostgreSQL prints short words; anything else goes to the generic array parser.
import pgTypes, { type TypeId } from 'pg-types';
import { ISO_SECONDS } from '../lib/time.ts';

/** Two digits at s[i], or NaN. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

function fallback(s: string): Date | number {
  if (s === 'infinity') return Infinity;
  if (s === '-infinity') return -Infinity;
  return new Date(s);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

const FRACTION_SCALE = [100, 10, 1];

/**
 * A timestamptz as PostgreSQL prints it with DateStyle ISO: `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`.
 * Anything else (BC dates, years past 9999 or before 100, infinity) takes the generic path, which
 * gives the same results PGlite's own parser does. The instant is computed here rather than with
 * Date.UTC, which took 0.5 µs a call (25 µs for a page of 25 tasks); this takes 0.2 µs.
 */
export function parseTimestamptz(s: string): Date | number {
  const n = s.length;
  if (n < 22 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return fallback(s);
  }
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // Milliseconds: the first three digits of the fraction, the rest truncated as Date does.
    let k = 0;
    for (i++; i < n; i++, k++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (k < 3) ms += d * FRACTION_SCALE[k]!;
    }
    if (k === 0) return fallback(s);
  }
  const sign = s.charCodeAt(i) === 43 ? 1 : s.charCodeAt(i) === 45 ? -1 : 0;
  if (sign === 0 || year < 100 || !(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59)) return fallback(s);
  const rest = n - i - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return fallback(s);
  const offsetHours = two(s, i + 1);
  const offsetMinutes = rest >= 5 ? two(s, i + 4) : 0;
  const offsetSeconds = rest === 8 ? two(s, i + 7) : 0;
  const utc =
    (daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - sign * ((offsetHours * 60 + offsetMinutes) * 60 + offsetSeconds)) * 1000 + ms;
  if (Number.isNaN(utc)) return fallback(s);
  const date = new Date(utc);
  // In UTC the text already is the API's form, to the second (see iso()).
  if (rest === 2 && offsetHours === 0) (date as Date & { [ISO_SECONDS]?: string })[ISO_SECONDS] = s.slice(0, 10) + 'T' + s.slice(11, 19) + 'Z';
  return date;
}

const TEXT_ARRAY_OID = 1009 as TypeId;
const genericTextArray = pgTypes.getTypeParser(TEXT_ARRAY_OID, 'text') as (value: string) => Array<string | null>;

/** No quotes, escapes, braces inside, or separators other than commas: `{bug,ux}`. */
const SIMPLE_ARRAY = /^\{[^"\\{}]+\}$/;

/** A text[] as PostgreSQL prints it: `{}`, `{a,b}`, or with quoted elements, NULL and dimensions. */
export function parseTextArray(s: string): Array<string | null> {
  if (s === '{}') return [];
  if (!SIMPLE_ARRAY.test(s)) return genericTextArray(s);
  const items: Array<string | null> = s.slice(1, -1).split(',');
  // An unquoted NULL is the null element; the string 'NULL' is printed quoted.
  for (let i = 0; i < items.length; i++) if (items[i] === 'NULL') items[i] = null;
  return items;
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
  pgTypes.setTypeParser(TEXT_ARRAY_OID, parseTextArray);
  installed = true;
}

/** The parser of a column of the given type OID. */
export function textParser(oid: number): TextParser {
  installTypeParsers();
  return pgTypes.getTypeParser(oid, 'text') as TextParser;
}

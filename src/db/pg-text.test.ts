import { describe, expect, it } from 'vitest';
import { iso } from '../lib/time.ts';
import { parseTextArray, parseTimestamptz } from './pg-text.ts';

// What PostgreSQL prints, and what V8's generic parser (PGlite's own) makes of it.
const CASES = [
  '2026-12-02 06:15:47+00',
  '2026-12-02 06:15:47.1+00',
  '2026-12-02 06:15:47.123+00',
  '2026-12-02 06:15:47.123456+00',
  '2026-12-02 06:15:47.999999+00',
  '2024-02-29 23:59:59.5+00',
  '1970-01-01 00:00:00+00',
  '1969-12-31 23:59:59.999+00',
  '2026-03-29 01:30:00+05:30',
  '2026-03-29 01:30:00.25-08',
  '2026-03-29 01:30:00-03:30',
  '9999-12-31 23:59:59.999999+00',
  '0100-01-01 00:00:00+00',
  '1900-02-28 23:59:59.9+00',
  '1900-03-01 00:00:00+00',
  '2000-02-29 12:00:00.000001+00',
  '2100-03-01 00:00:00-01',
  '1600-02-29 06:07:08.09+00',
  '0400-12-31 23:59:59+00',
  '1969-07-20 20:17:40.5+14',
  '2026-01-01 00:00:00.1234567+00',
];

describe('timestamptz text parser', () => {
  it.each(CASES)('reads %s as the generic parser does', (text) => {
    const fast = parseTimestamptz(text);
    expect(fast).toBeInstanceOf(Date);
    expect((fast as Date).getTime()).toBe(new Date(text).getTime());
  });

  it.each(CASES)('gives %s the same API text as formatting the Date would', (text) => {
    const date = parseTimestamptz(text) as Date;
    expect(iso(date)).toBe(new Date(date.getTime()).toISOString().slice(0, 19) + 'Z');
  });

  it('reads offsets with seconds (local mean time zones), which the generic parser cannot', () => {
    expect((parseTimestamptz('1900-01-01 00:00:00+00:19:32') as Date).toISOString()).toBe('1899-12-31T23:40:28.000Z');
  });

  it('hands infinities, BC dates and out-of-range years to the generic path', () => {
    expect(parseTimestamptz('infinity')).toBe(Infinity);
    expect(parseTimestamptz('-infinity')).toBe(-Infinity);
    for (const text of ['0044-03-15 12:00:00+00 BC', '0099-01-01 00:00:00+00', '12026-01-01 00:00:00+00']) {
      const fast = parseTimestamptz(text);
      const generic = new Date(text);
      expect(fast instanceof Date ? fast.getTime() : fast).toEqual(generic.getTime());
    }
  });
});

// As PostgreSQL prints text[] values: quoted where an element is empty, has spaces, quotes,
// backslashes, commas or braces, or reads NULL.
const ARRAYS: Array<[string, unknown[]]> = [
  ['{}', []],
  ['{bug}', ['bug']],
  ['{bug,ux}', ['bug', 'ux']],
  ['{NULL}', [null]],
  ['{a,NULL,b}', ['a', null, 'b']],
  ['{"NULL"}', ['NULL']],
  ['{""}', ['']],
  ['{"a b","c,d"}', ['a b', 'c,d']],
  ['{"say \\"hi\\"","back\\\\slash"}', ['say "hi"', 'back\\slash']],
  ['{"{x}",y}', ['{x}', 'y']],
  ['{ünïcödé,日本}', ['ünïcödé', '日本']],
];

describe('text[] parser', () => {
  it.each(ARRAYS)('reads %s', (text, expected) => {
    expect(parseTextArray(text)).toEqual(expected);
  });

  it('gives each call its own array', () => {
    const a = parseTextArray('{bug}');
    a.push('x');
    expect(parseTextArray('{bug}')).toEqual(['bug']);
  });
});

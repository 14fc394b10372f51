import qs from 'qs';
import type { CodeOf } from './error-codes.ts';
import { AppError } from './errors.ts';

export const MAX_JSON_DEPTH = 32;

/** Marks a body that came from a form, whose values are all strings, so validation may coerce them. */
export const FORM_BODY = Symbol('form-body');

function badInput(message: string, param: string | undefined, code: CodeOf<400> = 'INVALID_BODY'): AppError {
  return new AppError(400, code, message, param);
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

// NUL cannot be stored in PostgreSQL text, and a lone surrogate is not valid UTF-8: both would be
// corrupted or fail deep in the database, so they are refused at the door with the field's name.
// eslint-disable-next-line no-control-regex
const BAD_STRING = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Walks a parsed body once: nesting depth, strings PostgreSQL cannot hold, prototype-polluting keys,
 * and numbers that overflowed to Infinity (1e400). Everything is rejected with the offending field.
 */
/** `depth` counts the levels of containers: the body's own object or array is level 1. */
export function checkValue(value: unknown, param: string, depth: number): void {
  if (typeof value === 'string') {
    if (BAD_STRING.test(value)) throw badInput('Strings may not contain NUL characters or unpaired surrogates', param || undefined, 'INVALID_STRING');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badInput('Number is out of range', param || undefined, 'INVALID_NUMBER');
    return;
  }
  const tooDeep = () => badInput(`Body is nested deeper than ${MAX_JSON_DEPTH} levels`, param || undefined, 'BODY_TOO_DEEP');
  if (Array.isArray(value)) {
    if (depth > MAX_JSON_DEPTH) throw tooDeep();
    value.forEach((v, i) => checkValue(v, pathOf(param, i), depth + 1));
    return;
  }
  if (value !== null && typeof value === 'object') {
    if (depth > MAX_JSON_DEPTH) throw tooDeep();
    for (const key of Object.keys(value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        throw badInput(`Field name ${JSON.stringify(key)} is not allowed`, pathOf(param, key));
      }
      if (BAD_STRING.test(key)) throw badInput('Field names may not contain NUL characters or unpaired surrogates', undefined, 'INVALID_STRING');
      checkValue((value as Record<string, unknown>)[key], pathOf(param, key), depth + 1);
    }
  }
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  // One cheap pass before JSON.parse: a 10,000-deep document is refused before JSON.parse
  // recurses through it, and a key given twice in one object is refused rather than resolved
  // (JSON.parse keeps the last; other parsers, a proxy's or a WAF's, may keep the first).
  const objects: Array<Set<string> | null> = [];
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) {
        inString = false;
        const keys = objects[objects.length - 1];
        if (keys) {
          let j = i + 1;
          while (j < text.length && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9 || text.charCodeAt(j) === 10 || text.charCodeAt(j) === 13)) j++;
          if (text.charCodeAt(j) === 58) {
            let key: string;
            try {
              key = JSON.parse(text.slice(start, i + 1)) as string;
            } catch {
              key = text.slice(start + 1, i);
            }
            if (keys.has(key)) throw badInput(`The body gives ${JSON.stringify(key)} twice in one object`, key, 'DUPLICATE_KEY');
            keys.add(key);
          }
        }
      }
    } else if (c === 34) {
      inString = true;
      start = i;
    } else if (c === 123 || c === 91) {
      objects.push(c === 123 ? new Set() : null);
      if (objects.length > MAX_JSON_DEPTH) throw badInput(`Body is nested deeper than ${MAX_JSON_DEPTH} levels`, undefined, 'BODY_TOO_DEEP');
    } else if (c === 125 || c === 93) objects.pop();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badInput(`Malformed JSON: ${(err as Error).message}`, undefined, 'MALFORMED_JSON');
  }
  checkValue(parsed, '', 1);
  return parsed;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * qs silently drops `__proto__` keys; scanning the raw keys first refuses them the way a JSON body
 * with the same key is refused, instead of accepting a request that lost a field.
 */
function checkFormKeys(text: string): void {
  for (const pair of text.split('&')) {
    const rawKey = pair.slice(0, pair.indexOf('=') >>> 0);
    let key: string;
    try {
      key = decodeURIComponent(rawKey.replaceAll('+', ' '));
    } catch {
      throw badInput('Malformed percent-encoding in a form field name', undefined, 'INVALID_BODY');
    }
    const segments = key.split(/[[\]]+/).filter(Boolean);
    const bad = segments.findIndex((seg) => FORBIDDEN_KEYS.has(seg));
    if (bad >= 0) throw badInput(`Field name ${JSON.stringify(segments[bad])} is not allowed`, segments.slice(0, bad + 1).join('.'));
  }
}

/** Form bodies with bracket notation: `labels[]=a&labels[]=b`, `meta[key]=v`. */
export function parseFormBody(text: string): unknown {
  checkFormKeys(text);
  const parsed = qs.parse(text, {
    depth: 5,
    arrayLimit: 100,
    parameterLimit: 1000,
    allowPrototypes: false,
    plainObjects: true,
    strictNullHandling: false,
  }) as Record<string, unknown>;
  checkValue(parsed, '', 1);
  Object.defineProperty(parsed, FORM_BODY, { value: true, enumerable: false });
  return parsed;
}

export function parseQueryString(text: string): Record<string, unknown> {
  return qs.parse(text, { depth: 2, arrayLimit: 100, parameterLimit: 200, allowPrototypes: false, plainObjects: true });
}

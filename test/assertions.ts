import { expect } from 'vitest';
import type { Response } from './app.ts';

/** The response is an error envelope with this status (and code and param, when given). */
export function expectError(res: Response, status: number, code?: string, param?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(typeof res.body?.error?.code).toBe('string');
  expect(typeof res.body?.error?.message).toBe('string');
  if (code !== undefined) expect(res.body.error.code).toBe(code);
  if (param !== undefined) expect(res.body.error.param).toBe(param);
}

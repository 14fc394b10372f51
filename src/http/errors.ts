import type { CodeOf, ErrorCode } from './error-codes.ts';

/**
 * The one error type services throw; the error handler renders it as the error envelope. Its code
 * comes from the catalogue (error-codes.ts), with the status the catalogue gives it.
 */
export class AppError<S extends number = number> extends Error {
  readonly code: ErrorCode;
  constructor(
    readonly status: S,
    code: CodeOf<S>,
    message: string,
    readonly param?: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.code = code;
  }
}

export const errors = {
  badRequest: (message: string, param?: string, code: CodeOf<400> = 'INVALID_PARAMETER') => new AppError(400, code, message, param),
  unauthorized: () => new AppError(401, 'UNAUTHORIZED', 'Missing or invalid API key'),
  forbidden: (message: string, code: CodeOf<403> = 'FORBIDDEN') => new AppError(403, code, message),
  notFound: (resource: string) => new AppError(404, 'NOT_FOUND', `${resource} not found`),
  conflict: (message: string, param?: string, details?: Record<string, unknown>, code: CodeOf<409> = 'CONFLICT') =>
    new AppError(409, code, message, param, details),
  preconditionFailed: () =>
    new AppError(412, 'PRECONDITION_FAILED', 'The resource has changed since the ETag given in If-Match'),
  unprocessable: (message: string, param?: string, code: CodeOf<422> = 'VALIDATION_FAILED') => new AppError(422, code, message, param),
};

export interface ErrorBody {
  error: { code: string; message: string; param?: string; details?: Record<string, unknown>; request_id?: string };
}

export function envelope(e: AppError): ErrorBody {
  const error: ErrorBody['error'] = { code: e.code, message: e.message };
  if (e.param !== undefined) error.param = e.param;
  if (e.details !== undefined) error.details = e.details;
  return { error };
}

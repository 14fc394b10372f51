/** The one error type services throw; the error handler renders it as the error envelope. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const errors = {
  badRequest: (message: string, param?: string, code = 'INVALID_PARAMETER') => new AppError(400, code, message, param),
  unauthorized: () => new AppError(401, 'UNAUTHORIZED', 'Missing or invalid API key'),
  forbidden: (message: string, code = 'FORBIDDEN') => new AppError(403, code, message),
  notFound: (resource: string) => new AppError(404, 'NOT_FOUND', `${resource} not found`),
  conflict: (message: string, param?: string, details?: Record<string, unknown>, code = 'CONFLICT') =>
    new AppError(409, code, message, param, details),
  preconditionFailed: () =>
    new AppError(412, 'PRECONDITION_FAILED', 'The resource has changed since the ETag given in If-Match'),
  unprocessable: (message: string, param?: string, code = 'VALIDATION_FAILED') => new AppError(422, code, message, param),
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

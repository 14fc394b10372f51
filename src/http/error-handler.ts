import type { FastifyError, FastifyInstance } from 'fastify';
import type { CodeOf } from './error-codes.ts';
import { AppError, envelope } from './errors.ts';
import { validationError } from './validation.ts';

interface PgError {
  code?: string;
  constraint?: string;
}

/** Database errors that bad input can still reach despite validation: never a 500. */
/** Unique constraints that clients can hit, with the field they name. */
const UNIQUE: Record<string, { param: string; message: string; code: CodeOf<409> }> = {
  workspaces_slug_key: { param: 'slug', message: 'A workspace with this slug already exists', code: 'SLUG_TAKEN' },
  projects_slug_key: { param: 'slug', message: 'A project with this slug already exists in this workspace', code: 'SLUG_TAKEN' },
  projects_name_key: { param: 'name', message: 'A project with this name already exists in this workspace', code: 'NAME_TAKEN' },
  users_email_key: { param: 'email', message: 'A user with this email already exists', code: 'EMAIL_TAKEN' },
  users_username_key: { param: 'username', message: 'A user with this username already exists', code: 'USERNAME_TAKEN' },
  sprints_project_name_key: { param: 'name', message: 'A sprint with this name already exists in this project', code: 'NAME_TAKEN' },
  // Two starts at once in one project: the second waits for the first, then meets this index.
  sprints_one_active_key: { param: 'id', message: 'The project already has an active sprint; end it first', code: 'SPRINT_ALREADY_ACTIVE' },
  project_statuses_name_key: { param: 'name', message: 'A column with this name already exists in this project (names are compared whatever their case)', code: 'NAME_TAKEN' },
  labels_workspace_name_key: { param: 'name', message: 'A label with this name already exists in this workspace (names are compared whatever their case)', code: 'NAME_TAKEN' },
  memberships_workspace_id_user_id_key: { param: 'email', message: 'This user is already a member of the workspace', code: 'ALREADY_MEMBER' },
};

function fromDatabase(err: PgError): AppError | undefined {
  switch (err.code) {
    case '23505': {
      const known = err.constraint ? UNIQUE[err.constraint] : undefined;
      if (known) return new AppError(409, known.code, known.message, known.param);
      return new AppError(409, 'CONFLICT', 'A resource with these values already exists');
    }
    case '23503':
      return new AppError(422, 'INVALID_REFERENCE', 'A referenced resource does not exist');
    case '23514':
    case '23502':
      return new AppError(422, 'VALIDATION_FAILED', 'The values break a rule of this resource');
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22P02':
    case '22021':
    case '22P05':
      return new AppError(400, 'INVALID_PARAMETER', 'A value is out of range or malformed');
    case '40001':
    case '40P01':
      return new AppError(409, 'CONCURRENT_UPDATE', 'The request conflicted with a concurrent one; retry it');
    case '57014':
    case '55P03':
      return new AppError(503, 'TIMEOUT', 'The database took too long to answer; retry later');
    // The session to the database was lost (connection failure, server shutting down or ending it).
    case '08000':
    case '08003':
    case '08006':
    case '57P01':
    case '57P02':
    case '57P03':
      return new AppError(503, 'DATABASE_UNAVAILABLE', 'The database could not be reached; retry later');
    default:
      return undefined;
  }
}

function fromFastify(err: FastifyError): AppError | undefined {
  if (err.validation) return validationError(err.validation as never, err.validationContext ?? 'body');
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', 'Request body exceeds the 1 MiB limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json or application/x-www-form-urlencoded');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'INVALID_BODY', 'Body is empty but Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'INVALID_BODY', 'Content-Length does not match the body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError(400, 'INVALID_URL', 'The URL is malformed');
    default:
      break;
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError(err.statusCode, 'BAD_REQUEST', 'The request could not be understood');
  }
  return undefined;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const known =
      err instanceof AppError ? err : (fromDatabase(err as PgError) ?? fromFastify(err as FastifyError));
    if (known) {
      if (known.headers) void reply.headers(known.headers);
      if (known.status >= 500) request.log.warn({ err }, 'request failed');
      return reply.code(known.status).send(envelope(known));
    }
    request.log.error({ err }, 'unhandled error');
    const body = envelope(new AppError(500, 'INTERNAL_ERROR', 'Something went wrong on our side'));
    body.error.request_id = String(request.id);
    return reply.code(500).send(body);
  });
}

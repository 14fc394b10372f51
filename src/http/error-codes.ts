// The catalogue of every error code the API gives: its status, what kind of refusal it is, and the
// rule it states. AppError only takes a code from here (the compiler refuses any other), and the
// OpenAPI document publishes the catalogue as `x-error-codes`, so a client can know every refusal
// an operation can meet, and the fuzzing suite can tell a documented refusal from a stray one.

/**
 * - `request`: the request's form is refused (schema, encoding, size). A request its operation's
 *   schema accepts never gets one of these.
 * - `access`: the credentials, or the rights they carry, do not allow the request.
 * - `not_found`: what the URL (or a reference in the body) names does not exist, or is not yours.
 * - `rule`: the request is well-formed but breaks a documented rule about its meaning; `param`
 *   names the field or parameter concerned.
 * - `state`: the current state of a resource does not allow the change now (retrying after the
 *   state changes may succeed).
 * - `limit`: a rate limit; `Retry-After` says when to come back.
 * - `server`: the server could not answer; retry later.
 */
export type ErrorKind = 'request' | 'access' | 'not_found' | 'rule' | 'state' | 'limit' | 'server';

export interface ErrorRule {
  status: number;
  kind: ErrorKind;
  rule: string;
}

export const ERROR_CODES = {
  // 400: the request's form.
  VALIDATION_ERROR: { status: 400, kind: 'request', rule: 'A field or parameter breaks the schema: missing, of the wrong type, out of range, too long, not one of the values, or not a field at all.' },
  INVALID_PARAMETER: { status: 400, kind: 'request', rule: 'A value is malformed or out of range for what it names.' },
  INVALID_BODY: { status: 400, kind: 'request', rule: 'The body cannot be read: empty with a JSON content type, a wrong Content-Length, or a malformed form encoding.' },
  MALFORMED_JSON: { status: 400, kind: 'request', rule: 'The body is not valid JSON.' },
  BODY_TOO_DEEP: { status: 400, kind: 'request', rule: 'The body nests objects and arrays more than 32 levels deep.' },
  DUPLICATE_KEY: { status: 400, kind: 'request', rule: 'A JSON object gives the same field twice.' },
  INVALID_STRING: { status: 400, kind: 'request', rule: 'A string holds a NUL character or an unpaired surrogate.' },
  INVALID_NUMBER: { status: 400, kind: 'request', rule: 'A number is too large to represent (such as 1e400).' },
  INVALID_URL: { status: 400, kind: 'request', rule: 'The URL is malformed (such as a broken percent-encoding).' },
  BAD_REQUEST: { status: 400, kind: 'request', rule: 'The request could not be understood.' },
  INVALID_SORT: { status: 400, kind: 'request', rule: '`sort` names a field this list cannot be sorted by.' },
  INVALID_INCLUDE: { status: 400, kind: 'request', rule: '`include` names a relation that cannot be embedded.' },
  INVALID_PERIOD: { status: 400, kind: 'request', rule: '`period` is not one of the named periods.' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, kind: 'request', rule: 'The Idempotency-Key header is not 1 to 255 visible ASCII characters.' },
  FILE_REQUIRED: { status: 400, kind: 'request', rule: 'An upload has no multipart part named `file`.' },
  // 400: rules about combining parameters, which a schema alone does not state.
  PARAMETERS_CONFLICT: { status: 400, kind: 'rule', rule: 'Two fields or parameters that exclude each other are both given, or disagree; `param` names one of them.' },
  PARAMETER_REQUIRED: { status: 400, kind: 'rule', rule: 'A field or parameter is required by another one that is given; `param` names the missing one.' },
  INVALID_CURSOR: { status: 400, kind: 'rule', rule: '`after` is not a cursor this API gave out, or one from another filter.' },
  INVALID_TIME_ZONE: { status: 400, kind: 'rule', rule: '`tz` is not a known IANA time zone.' },
  TOO_MANY_TYPES: { status: 400, kind: 'rule', rule: '`types` names more than 50 event types.' },

  // 401, 403: credentials and rights.
  UNAUTHORIZED: { status: 401, kind: 'access', rule: 'The API key is missing, malformed, unknown, expired or revoked (all alike).' },
  FORBIDDEN: { status: 403, kind: 'access', rule: 'The request is not allowed.' },
  ROLE_TOO_LOW: { status: 403, kind: 'access', rule: 'Your role in the workspace does not allow this (or cannot grant, change or remove that role).' },
  INSUFFICIENT_SCOPE: { status: 403, kind: 'access', rule: "The key's scopes do not allow this, or a key would be minted with more rights than its maker has; `details` names the scope required." },
  HTTPS_REQUIRED: { status: 403, kind: 'access', rule: 'The server only accepts HTTPS.' },
  NOT_INSTANCE_ADMIN: { status: 403, kind: 'rule', rule: 'Only instance administrators can do this (the admin routes, and changing a workspace’s `plan`).' },
  PROJECT_KEY: { status: 403, kind: 'rule', rule: 'A project key cannot create workspaces.' },
  OWN_ROLE: { status: 403, kind: 'rule', rule: 'Nobody can change their own role.' },
  NOT_AUTHOR: { status: 403, kind: 'rule', rule: "Only a comment's author edits it; its author or an admin deletes it." },

  // 404, 405.
  NOT_FOUND: { status: 404, kind: 'not_found', rule: 'The resource does not exist or is not yours (the two are not told apart).' },
  ROUTE_NOT_FOUND: { status: 404, kind: 'request', rule: 'No route has this path.' },
  METHOD_NOT_ALLOWED: { status: 405, kind: 'request', rule: 'The path exists but not with this method; `Allow` lists the methods it has.' },

  // 409: the state of a resource.
  CONFLICT: { status: 409, kind: 'state', rule: 'A resource with these values already exists.' },
  SLUG_TAKEN: { status: 409, kind: 'state', rule: 'The slug is taken (workspaces across the server, projects within their workspace).' },
  NAME_TAKEN: { status: 409, kind: 'state', rule: 'The name is taken among its siblings (projects, sprints, columns and labels; columns and labels whatever their case).' },
  EMAIL_TAKEN: { status: 409, kind: 'state', rule: 'A user with this email already exists.' },
  USERNAME_TAKEN: { status: 409, kind: 'state', rule: 'A user with this username already exists.' },
  ALREADY_MEMBER: { status: 409, kind: 'state', rule: 'The user is already a member of the workspace.' },
  LAST_OWNER: { status: 409, kind: 'state', rule: 'A workspace keeps at least one owner.' },
  KEY_TAKEN: { status: 409, kind: 'state', rule: 'The project already has a column with this key.' },
  LAST_STATUS: { status: 409, kind: 'state', rule: 'A project keeps at least one column.' },
  STATUS_NOT_EMPTY: { status: 409, kind: 'state', rule: 'The column holds tasks: name another in `move_to` to take them.' },
  WIP_LIMIT_REACHED: { status: 409, kind: 'state', rule: 'The column is at its WIP limit.' },
  SPRINT_NOT_STARTED: { status: 409, kind: 'state', rule: 'The sprint has not started, so it has no report yet.' },
  SPRINT_NOT_PLANNED: { status: 409, kind: 'state', rule: 'Only a planned sprint can start.' },
  SPRINT_ALREADY_ACTIVE: { status: 409, kind: 'state', rule: 'The project already has an active sprint.' },
  SPRINT_NOT_ACTIVE: { status: 409, kind: 'state', rule: 'Only the active sprint can end.' },
  SPRINT_ACTIVE: { status: 409, kind: 'state', rule: 'An active sprint cannot be deleted; end it first.' },
  ENTRY_OVERLAPS: { status: 409, kind: 'state', rule: 'The entry overlaps another of your entries, and the workspace does not allow overlaps.' },
  TIMER_ALREADY_RUNNING: { status: 409, kind: 'state', rule: 'You already have a running timer.' },
  TIMER_NOT_RUNNING: { status: 409, kind: 'state', rule: 'The timer is not running.' },
  TIMER_BUSY: { status: 409, kind: 'state', rule: 'The timer kept changing while it was being stopped; retry.' },
  CONCURRENT_UPDATE: { status: 409, kind: 'state', rule: 'The request conflicted with a concurrent one; retry it.' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, kind: 'state', rule: 'A request with this Idempotency-Key is still being processed.' },
  WEBHOOK_DISABLED: { status: 409, kind: 'state', rule: 'The webhook is disabled: enable it (active: true) to send to it.' },
  IDEMPOTENCY_KEY_REPLAY_UNAVAILABLE: { status: 409, kind: 'state', rule: 'The first response held a secret shown only once, so it is not replayed.' },

  // 412, 413, 415.
  PRECONDITION_FAILED: { status: 412, kind: 'state', rule: 'The resource has changed since the ETag in If-Match (or the `version` given).' },
  PAYLOAD_TOO_LARGE: { status: 413, kind: 'request', rule: 'The body is larger than 1 MiB.' },
  FILE_TOO_LARGE: { status: 413, kind: 'request', rule: 'The uploaded file is larger than the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, kind: 'request', rule: 'The body is sent with a content type this operation does not take.' },
  UNSUPPORTED_CONTENT_TYPE: { status: 415, kind: 'request', rule: 'Files of this type are not accepted as attachments.' },

  // 422: rules about the request's meaning.
  VALIDATION_FAILED: { status: 422, kind: 'rule', rule: 'The values break a rule of the resource.' },
  INVALID_REFERENCE: { status: 422, kind: 'rule', rule: 'A referenced resource does not exist.' },
  INVALID_STATUS: { status: 422, kind: 'rule', rule: "The status (or `move_to`) is not one of the project's columns." },
  INVALID_PARENT: { status: 422, kind: 'rule', rule: 'A parent must be another task of the same project.' },
  PARENT_IS_SUBTASK: { status: 422, kind: 'rule', rule: 'Subtasks have one level: the parent is a subtask itself.' },
  HAS_SUBTASKS: { status: 422, kind: 'rule', rule: 'A task with subtasks cannot become a subtask.' },
  INVALID_ASSIGNEE: { status: 422, kind: 'rule', rule: 'The assignee must be a member of the workspace.' },
  INVALID_SPRINT: { status: 422, kind: 'rule', rule: "The sprint must be one of the project's, and for `move_to` one that has not started." },
  SPRINT_COMPLETED: { status: 422, kind: 'rule', rule: 'Tasks cannot be planned in a sprint that has ended.' },
  INVALID_DATES: { status: 422, kind: 'rule', rule: "A sprint's `end_date` is on or after its `start_date`." },
  TOO_MANY_STATUSES: { status: 422, kind: 'rule', rule: 'A project has at most 50 columns.' },
  INVALID_INTERVAL: { status: 422, kind: 'rule', rule: '`ended_at` is after `started_at`, and a running timer does not start in the future.' },
  ENTRY_TOO_LONG: { status: 422, kind: 'rule', rule: 'A time entry lasts at most 24 hours.' },
  TIMER_RUNNING: { status: 422, kind: 'rule', rule: 'A running timer has no end until it is stopped.' },
  INVALID_RANGE: { status: 422, kind: 'rule', rule: 'A report range does not end before it starts.' },
  RANGE_TOO_LONG: { status: 422, kind: 'rule', rule: 'A report covers at most 366 days.' },
  INVALID_EXPIRY: { status: 422, kind: 'rule', rule: 'A key expires in the future, and within 365 days.' },
  INVALID_PROJECT: { status: 422, kind: 'rule', rule: "A project key's project must exist, in a workspace its user belongs to." },
  UNKNOWN_TIME_ZONE: { status: 422, kind: 'rule', rule: "A workspace's `time_zone` is a known IANA time zone." },
  DUPLICATE_ITEM: { status: 422, kind: 'rule', rule: 'A batch names the same task more than once.' },
  BATCH_REJECTED: { status: 422, kind: 'rule', rule: 'An atomic batch had items refused, so nothing changed; `details.errors` lists them.' },
  CONTENT_TYPE_MISMATCH: { status: 422, kind: 'rule', rule: "An uploaded file's content is not of the type it was sent as." },
  INVALID_WEBHOOK_URL: { status: 422, kind: 'rule', rule: 'A webhook URL is https (http only where the server allows it), carries no credentials, and neither is nor resolves to a private, loopback, link-local, CGNAT or unspecified address (unless the server allows them).' },
  REDELIVERY_EXPIRED: { status: 422, kind: 'rule', rule: 'A delivery can be sent again for 30 days after it was made.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, kind: 'rule', rule: 'The Idempotency-Key was used with a different request.' },

  // 429, 5xx.
  RATE_LIMITED: { status: 429, kind: 'limit', rule: "The key's hourly quota or per-minute burst is used up." },
  TOO_MANY_AUTH_FAILURES: { status: 429, kind: 'limit', rule: 'Too many failed authentications from this address.' },
  INTERNAL_ERROR: { status: 500, kind: 'server', rule: 'An unexpected failure; `request_id` identifies it in the logs.' },
  TIMEOUT: { status: 503, kind: 'server', rule: 'The database took too long to answer; retry later.' },
  DATABASE_UNAVAILABLE: { status: 503, kind: 'server', rule: 'The database could not be reached; retry later.' },
} as const satisfies Record<string, ErrorRule>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose status is S. */
export type CodeOf<S extends number> = { [K in ErrorCode]: (typeof ERROR_CODES)[K]['status'] extends S ? K : never }[ErrorCode];

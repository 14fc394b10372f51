import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: string;
  email: string;
  username: string;
  name: string;
  is_instance_admin: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WorkspacesTable {
  id: string;
  slug: string;
  name: string;
  plan: Generated<'free' | 'pro' | 'enterprise'>;
  rate_limit_hourly: number | null;
  rate_limit_burst: number | null;
  time_zone: Generated<string>;
  allow_overlapping_time_entries: Generated<boolean>;
  max_timer_minutes: Generated<number>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface MembershipsTable {
  id: string;
  workspace_id: string;
  user_id: string;
  role: Role;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProjectsTable {
  id: string;
  workspace_id: string;
  name: string;
  slug: string;
  description: Generated<string>;
  statuses: Generated<string[]>;
  last_task_number: Generated<number>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  display_prefix: string;
  scopes: string[];
  workspace_id: string | null;
  project_id: string | null;
  expires_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_used_ip: ColumnType<string | null, string | null | undefined, string | null>;
  expiry_notified_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Timestamp;
}

export type Priority = 'low' | 'medium' | 'high' | 'urgent';

export interface TasksTable {
  id: string;
  uuid: string;
  workspace_id: string;
  project_id: string;
  number: number;
  title: string;
  description: Generated<string>;
  status: string;
  priority: Generated<Priority>;
  labels: Generated<string[]>;
  assignee_id: string | null;
  /** `date` columns are read as 'YYYY-MM-DD' strings (parsers set in database.ts). */
  due_date: string | null;
  estimated_minutes: number | null;
  created_by: string | null;
  /** The sum of the task's finished time entries, kept by a trigger (see the time_entries migration). */
  tracked_seconds: Generated<number>;
  /** One of the project's sprints, or null (the backlog). */
  sprint_id: Generated<string | null>;
  /** Its place in its column (boards order by it); new tasks go to the end. Not presented. */
  rank: Generated<number>;
  /** A task of the same project that has no parent itself, or null. */
  parent_id: Generated<string | null>;
  /** Kept by triggers (see the subtasks migration): how many subtasks, and how many of them finished. */
  subtask_count: Generated<number>;
  subtask_done_count: Generated<number>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type SprintStatus = 'planned' | 'active' | 'completed';

export interface SprintsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  name: string;
  goal: Generated<string>;
  start_date: string | null;
  end_date: string | null;
  status: Generated<SprintStatus>;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  committed_tasks: number | null;
  committed_minutes: number | null;
  completed_tasks: number | null;
  completed_minutes: number | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CommentsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  task_id: string;
  author_id: string | null;
  body: string;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AttachmentsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  task_id: string;
  uploaded_by: string | null;
  filename: string;
  content_type: string;
  /** int8: read as a string (see pg-text.ts); presented as a number. */
  size_bytes: ColumnType<string, number, number>;
  sha256: string;
  created_at: Timestamp;
}

export type StatusCategory = 'todo' | 'in_progress' | 'done';

/** A project's board column. Tasks reference it by (project_id, key). */
export interface ProjectStatusesTable {
  id: string;
  workspace_id: string;
  project_id: string;
  key: string;
  name: string;
  category: StatusCategory;
  wip_limit: number | null;
  position: number;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LabelsTable {
  id: string;
  workspace_id: string;
  name: string;
  color: string;
  description: Generated<string>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A task joining or leaving a sprint, or changing while in it (sprint reports replay these). */
export interface SprintTaskLogTable {
  seq: Generated<string>;
  sprint_id: string;
  task_id: string;
  at: Timestamp;
  in_sprint: boolean;
  status: string;
  estimated_minutes: number | null;
}

export interface TimeEntriesTable {
  /** int8: read as a string (see pg-text.ts); presented as a number. */
  id: Generated<string>;
  workspace_id: string;
  project_id: string;
  task_id: string;
  user_id: string;
  started_at: Timestamp;
  ended_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  description: Generated<string>;
  billable: Generated<boolean>;
  is_manual: Generated<boolean>;
  auto_stopped: Generated<boolean>;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  seq: Generated<string>;
  /** The writing transaction (xid8, as text), for the sequencer. */
  tx: Generated<string>;
  /** The event's place in the change feed (int8 as text), given by the sequencer; null until then. */
  position: Generated<string | null>;
  id: string;
  workspace_id: string;
  project_id: string | null;
  type: string;
  resource_type: string;
  resource_id: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  data: ColumnType<unknown, string, string>;
  changes: ColumnType<unknown, string | null, string | null>;
  occurred_at: Timestamp;
}

export type WebhookDisabledReason = 'by_request' | 'gone' | 'failing';

export interface WebhooksTable {
  id: string;
  workspace_id: string;
  project_id: string | null;
  url: string;
  events: string[];
  description: Generated<string>;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
  active: Generated<boolean>;
  disabled_reason: WebhookDisabledReason | null;
  failing_since: Date | null;
  created_by: string | null;
  version: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string | null;
  event_type: string;
  payload: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  lease_until: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempted_at: Timestamp;
  status_code: number | null;
  duration_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

export interface WebhookDispatchStateTable {
  only_row: Generated<boolean>;
  last_position: string;
}

export interface IdempotencyKeysTable {
  credential_id: string;
  route: string;
  key: string;
  request_hash: string;
  status_code: number;
  response_body: string;
  response_headers: ColumnType<Record<string, string>, string, string>;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface DB {
  users: UsersTable;
  workspaces: WorkspacesTable;
  memberships: MembershipsTable;
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  tasks: TasksTable;
  sprints: SprintsTable;
  sprint_task_log: SprintTaskLogTable;
  labels: LabelsTable;
  project_statuses: ProjectStatusesTable;
  comments: CommentsTable;
  attachments: AttachmentsTable;
  time_entries: TimeEntriesTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_dispatch_state: WebhookDispatchStateTable;
}

export type User = Selectable<UsersTable>;
export type Workspace = Selectable<WorkspacesTable>;
export type Membership = Selectable<MembershipsTable>;
export type Project = Selectable<ProjectsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
/** A task as the code handles it: its rank is read only for ordering. */
export type Task = Omit<Selectable<TasksTable>, 'rank'>;
export type Sprint = Selectable<SprintsTable>;
export type Label = Selectable<LabelsTable>;
export type ProjectStatus = Selectable<ProjectStatusesTable>;
export type Comment = Selectable<CommentsTable>;
export type Attachment = Selectable<AttachmentsTable>;
export type TimeEntry = Selectable<TimeEntriesTable>;
export type Webhook = Selectable<WebhooksTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type WebhookAttempt = Selectable<WebhookAttemptsTable>;

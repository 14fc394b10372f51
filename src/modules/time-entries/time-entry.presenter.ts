import type { TimeEntry } from '../../db/schema.ts';
import { iso, isoOrNull } from '../../lib/time.ts';

/** An entry with what its presentations need from its task and user. */
export type EntryRow = TimeEntry & { task_uuid: string; username: string; user_name: string };

/** Whole seconds between start and end (entries are kept to the second), or null while running. */
export function durationSeconds(e: Pick<TimeEntry, 'started_at' | 'ended_at'>): number | null {
  return e.ended_at === null ? null : Math.round((e.ended_at.getTime() - e.started_at.getTime()) / 1000);
}

/** Minutes, rounded to the nearest (half up): what the GitScrum API calls `duration_minutes`. */
export function durationMinutes(e: Pick<TimeEntry, 'started_at' | 'ended_at'>): number | null {
  const s = durationSeconds(e);
  return s === null ? null : Math.floor((s + 30) / 60);
}

/** The `/v1` shape. */
export function presentEntry(e: EntryRow) {
  return {
    id: Number(e.id),
    task_id: e.task_id,
    task_uuid: e.task_uuid,
    project_id: e.project_id,
    workspace_id: e.workspace_id,
    user_id: e.user_id,
    user: { id: e.user_id, username: e.username, name: e.user_name },
    started_at: iso(e.started_at),
    ended_at: isoOrNull(e.ended_at),
    running: e.ended_at === null,
    duration_seconds: durationSeconds(e),
    duration_minutes: durationMinutes(e),
    description: e.description,
    billable: e.billable,
    is_manual: e.is_manual,
    auto_stopped: e.auto_stopped,
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
  };
}

/** The shape of `spec/time-tracking.txt` (its field reference). */
export function presentTracking(e: EntryRow) {
  return {
    id: Number(e.id),
    task_uuid: e.task_uuid,
    user: { username: e.username, name: e.user_name },
    started_at: iso(e.started_at),
    ended_at: isoOrNull(e.ended_at),
    duration_minutes: durationMinutes(e),
    description: e.description,
    is_manual: e.is_manual,
    created_at: iso(e.created_at),
  };
}

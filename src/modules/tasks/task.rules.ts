// The rules a task's references must meet, as errors: one wording for the single and the batch
// operations, which check them against facts they read in their own way (one task, or a batch).
import type { Sprint, Task } from '../../db/schema.ts';
import { errors, type AppError } from '../../http/errors.ts';

/** A status of the task's project (422 otherwise). */
export function statusError(statuses: readonly string[], status: string): AppError | undefined {
  if (statuses.includes(status)) return undefined;
  return errors.unprocessable(`Unknown status ${JSON.stringify(status)}; this project's statuses are: ${statuses.join(', ')}`, 'status', 'INVALID_STATUS');
}

/**
 * A parent for a task of the project: another of the project's tasks that is not a subtask
 * itself, for a task that has no subtasks of its own (one level, 422 otherwise).
 */
export function parentError(parent: Pick<Task, 'id' | 'project_id' | 'parent_id'> | undefined, projectId: string, task: Pick<Task, 'id' | 'subtask_count'> | null): AppError | undefined {
  if (!parent || parent.project_id !== projectId || parent.id === task?.id) {
    return errors.unprocessable("The parent must be another task of the task's project", 'parent_id', 'INVALID_PARENT');
  }
  if (parent.parent_id !== null) return errors.unprocessable('The parent is a subtask itself; subtasks have one level', 'parent_id', 'PARENT_IS_SUBTASK');
  if (task && task.subtask_count > 0) return errors.unprocessable('The task has subtasks of its own, so it cannot become one', 'parent_id', 'HAS_SUBTASKS');
  return undefined;
}

/** A column at its WIP limit. */
export function wipError(key: string, limit: number, param = 'status'): AppError {
  return errors.conflict(`The ${key} column is at its WIP limit of ${limit} tasks`, param, { status: key, wip_limit: limit }, 'WIP_LIMIT_REACHED');
}

/** An assignee who is not a member of the task's workspace. */
export function assigneeError(): AppError {
  return errors.unprocessable('The assignee must be a member of the workspace', 'assignee_id', 'INVALID_ASSIGNEE');
}

/** A sprint of the task's own project that has not ended (422 otherwise, also for another project's). */
export function sprintError(sprint: Pick<Sprint, 'project_id' | 'status'> | undefined, projectId: string): AppError | undefined {
  if (!sprint || sprint.project_id !== projectId) return errors.unprocessable("The sprint must be one of the task's project's sprints", 'sprint_id', 'INVALID_SPRINT');
  if (sprint.status === 'completed') return errors.unprocessable('The sprint has ended; plan the task in a sprint that has not', 'sprint_id', 'SPRINT_COMPLETED');
  return undefined;
}

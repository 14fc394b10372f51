import type { Role } from '../db/schema.ts';

/** Pure role rules: which role may do what inside a workspace. Tested as a table. */
export type Action =
  | 'workspace:read'
  | 'workspace:update'
  | 'member:read'
  | 'member:invite'
  | 'member:remove'
  | 'project:read'
  | 'project:create'
  | 'project:update'
  | 'project:delete'
  | 'task:read'
  | 'task:write'
  | 'comment:write'
  | 'comment:moderate'
  | 'label:read'
  | 'label:write'
  | 'label:delete'
  | 'sprint:read'
  | 'sprint:write'
  | 'time:read'
  | 'time:write'
  | 'time:manage'
  | 'webhook:manage';

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

const MINIMUM: Record<Action, Role> = {
  'workspace:read': 'viewer',
  'workspace:update': 'admin',
  'member:read': 'viewer',
  'member:invite': 'admin',
  'member:remove': 'admin',
  'project:read': 'viewer',
  'project:create': 'admin',
  'project:update': 'admin',
  'project:delete': 'admin',
  'task:read': 'viewer',
  'task:write': 'member',
  // Writing comments (and editing one's own: only the author edits).
  'comment:write': 'member',
  // Deleting other people's comments.
  'comment:moderate': 'admin',
  'label:read': 'viewer',
  // Members label their tasks (a new name creates its label), as on GitHub with triage access.
  'label:write': 'member',
  // Deleting a label takes it off every task.
  'label:delete': 'admin',
  'sprint:read': 'viewer',
  // Planning and running sprints is the team's work, as in GitLab (milestones) and Jira.
  'sprint:write': 'member',
  'time:read': 'viewer',
  // Tracking one's own time.
  'time:write': 'member',
  // Stopping, editing and deleting other people's entries.
  'time:manage': 'admin',
  // Reading webhooks too: their URLs and deliveries are the workspace's integrations.
  'webhook:manage': 'admin',
};

export const ROLES: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];

export function can(role: Role, action: Action): boolean {
  return RANK[role] >= RANK[MINIMUM[action]];
}

/** Nobody hands out a role above their own. */
export function canGrant(granter: Role, granted: Role): boolean {
  return RANK[granter] >= RANK[granted];
}

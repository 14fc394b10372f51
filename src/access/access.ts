import type { Role } from '../db/schema.ts';
import { errors } from '../http/errors.ts';
import { roleIn, visibleWorkspaceIds, type Principal } from '../http/principal.ts';
import { can, type Action } from './roles.ts';

/** What a project key may still do at workspace level: look at its container. */
const PROJECT_KEY_WORKSPACE_ACTIONS: ReadonlySet<Action> = new Set(['workspace:read', 'member:read', 'project:read', 'task:read', 'task:write', 'label:read']);

/**
 * The second authorization layer: the caller's role in the resource's workspace. Not a member
 * (or a project key outside its project) is a 404, exactly like a missing resource; a member whose
 * role is too low gets a 403.
 */
export function authorize(p: Principal, workspaceId: string, action: Action, resource: string, projectId?: string): Role {
  const role = roleIn(p, workspaceId);
  if (role === undefined) throw errors.notFound(resource);
  if (p.projectId !== null) {
    if (projectId !== undefined ? projectId !== p.projectId : !PROJECT_KEY_WORKSPACE_ACTIONS.has(action)) {
      throw errors.notFound(resource);
    }
  }
  if (!can(role, action)) throw errors.forbidden(`Your role (${role}) does not allow this`, 'ROLE_TOO_LOW');
  return role;
}

/**
 * The workspaces this credential reaches in which its role allows `action`, for set-based checks
 * in SQL. A project key's limit to its project is the caller's to apply.
 */
export function workspacesWhere(p: Principal, action: Action): string[] {
  return visibleWorkspaceIds(p).filter((id) => {
    const role = p.memberships.get(id);
    return role !== undefined && can(role, action);
  });
}

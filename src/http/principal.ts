import type { PlanLimit } from '../config.ts';
import type { Role } from '../db/schema.ts';
import { errors } from './errors.ts';

/** Who is calling: the API key, its user, and the workspaces that user belongs to. */
export interface Principal {
  keyId: string;
  userId: string;
  scopes: string[];
  /** A project key reaches only this project (and its workspace). */
  projectId: string | null;
  keyWorkspaceId: string | null;
  isInstanceAdmin: boolean;
  memberships: Map<string, Role>;
  rateLimit: PlanLimit;
  expiresAt: number;
}

/** What an event row records about who caused it. */
export interface Actor {
  userId: string | null;
  keyId: string | null;
}

export function actorOf(p: Principal): Actor {
  return { userId: p.userId, keyId: p.keyId };
}

/** The workspaces this credential can see at all. */
export function visibleWorkspaceIds(p: Principal): string[] {
  if (p.keyWorkspaceId) return p.memberships.has(p.keyWorkspaceId) ? [p.keyWorkspaceId] : [];
  return [...p.memberships.keys()];
}

/** The caller's role in a workspace, or undefined when it must look as if it does not exist. */
export function roleIn(p: Principal, workspaceId: string): Role | undefined {
  if (p.keyWorkspaceId && p.keyWorkspaceId !== workspaceId) return undefined;
  return p.memberships.get(workspaceId);
}

export function projectVisible(p: Principal, workspaceId: string, projectId: string): boolean {
  if (roleIn(p, workspaceId) === undefined) return false;
  return p.projectId === null || p.projectId === projectId;
}

export function requireInstanceAdmin(p: Principal): void {
  if (!p.isInstanceAdmin) throw errors.forbidden('Only instance administrators can do this', 'NOT_INSTANCE_ADMIN');
}

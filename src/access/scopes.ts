// Key scopes: what a key may do on top of what its user's roles allow. Pure rules, tested as a
// table (test/security/roles.test.ts) and over HTTP (test/security/scopes.test.ts).
//
// - `admin`: everything the key's user may do.
// - `read`: every read, no write.
// - `<resource>:read` and `<resource>:write`: that resource only (write includes read);
//   `webhooks:admin` manages webhooks.
// An operation's resource is its OpenAPI tag's (SCOPE_BY_TAG); GET reads, every other method writes.

export const RESOURCES = ['workspaces', 'members', 'projects', 'tasks', 'sprints', 'labels', 'comments', 'attachments', 'time', 'events', 'keys'] as const;
export type Resource = (typeof RESOURCES)[number];

export const SCOPES = [
  'admin',
  'read',
  ...RESOURCES.flatMap((r) => (r === 'events' ? [`${r}:read`] : [`${r}:read`, `${r}:write`])),
  'webhooks:read',
  'webhooks:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What an operation needs, by its OpenAPI tag: a resource (read or write by method), `none` (no
 * key needed beyond authentication: the key's own description), or `admin`.
 */
export const SCOPE_BY_TAG: Record<string, Resource | 'webhooks' | 'admin' | 'none'> = {
  System: 'none',
  Workspaces: 'workspaces',
  Members: 'members',
  Projects: 'projects',
  Workflows: 'projects',
  Tasks: 'tasks',
  Sprints: 'sprints',
  Labels: 'labels',
  Comments: 'comments',
  Attachments: 'attachments',
  Events: 'events',
  'Time entries': 'time',
  'Time tracking (GitScrum-style)': 'time',
  'API keys': 'keys',
  // webhooks:read reads them; writing takes webhooks:admin (see satisfies).
  Webhooks: 'webhooks',
  Administration: 'admin',
};

/** Operations that every key may call whatever its scopes: a key describing itself. */
const ANY_SCOPE_OPERATIONS: ReadonlySet<string> = new Set(['getCurrentApiKey']);

/**
 * The scope an operation needs. An operation whose tag is not in SCOPE_BY_TAG needs `admin`:
 * a route nobody mapped is closed to fine-grained keys, never open to them.
 */
export function requiredScope(tag: string | undefined, method: string, operationId?: string): string {
  if (operationId && ANY_SCOPE_OPERATIONS.has(operationId)) return 'none';
  const resource = tag === undefined ? undefined : SCOPE_BY_TAG[tag];
  if (resource === undefined || resource === 'admin') return 'admin';
  if (resource === 'none') return 'none';
  const reads = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  // Webhooks are written with webhooks:admin: they send the workspace's data to another server.
  if (resource === 'webhooks') return reads ? 'webhooks:read' : 'webhooks:admin';
  return `${resource}:${reads ? 'read' : 'write'}`;
}

/** Whether keys with `scopes` may do what `required` names. */
export function satisfies(scopes: readonly string[], required: string): boolean {
  if (required === 'none' || scopes.includes('admin')) return true;
  if (required === 'admin') return false;
  if (scopes.includes(required)) return true;
  const [resource, action] = required.split(':') as [string, string];
  if (action === 'read') return scopes.includes('read') || scopes.includes(`${resource}:write`) || scopes.includes(`${resource}:admin`);
  if (action === 'write') return scopes.includes(`${resource}:admin`);
  return false;
}

/** A key's scopes allow some write (the read-only keys are those without). */
export function allowsWrite(scopes: readonly string[]): boolean {
  return scopes.some((s) => s === 'admin' || ((SCOPES as readonly string[]).includes(s) && (s.endsWith(':write') || s.endsWith(':admin'))));
}

/** A key never carries more than the key that mints it: each requested scope is one the minter has, or a part of one. */
export function canMint(minter: readonly string[], requested: readonly string[]): boolean {
  return requested.every((s) => {
    if (s === 'admin') return minter.includes('admin');
    if (s === 'read') return minter.includes('admin') || minter.includes('read');
    return satisfies(minter, s);
  });
}

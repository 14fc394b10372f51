// The pure access rules, stated as explicit tables: a change to a rule must change a row here.
import { describe, expect, it } from 'vitest';
import { can, canGrant, ROLES, type Action } from '../../src/access/roles.ts';
import { allowsWrite, canMint, requiredScope, satisfies, SCOPES } from '../../src/access/scopes.ts';
import type { Role } from '../../src/db/schema.ts';

type Row = Record<Role, boolean>;
const row = (owner: boolean, admin: boolean, member: boolean, viewer: boolean): Row => ({ owner, admin, member, viewer });

// A Record over Action: adding an action to roles.ts without a row here fails the type check.
const CAN: Record<Action, Row> = {
  'workspace:read': row(true, true, true, true),
  'workspace:update': row(true, true, false, false),
  'member:read': row(true, true, true, true),
  'member:invite': row(true, true, false, false),
  'member:remove': row(true, true, false, false),
  'project:read': row(true, true, true, true),
  'project:create': row(true, true, false, false),
  'project:update': row(true, true, false, false),
  'project:delete': row(true, true, false, false),
  'task:read': row(true, true, true, true),
  'task:write': row(true, true, true, false),
  'comment:write': row(true, true, true, false),
  'comment:moderate': row(true, true, false, false),
  'label:read': row(true, true, true, true),
  'label:write': row(true, true, true, false),
  'label:delete': row(true, true, false, false),
  'sprint:read': row(true, true, true, true),
  'sprint:write': row(true, true, true, false),
  'time:read': row(true, true, true, true),
  'time:write': row(true, true, true, false),
  'time:manage': row(true, true, false, false),
  'webhook:manage': row(true, true, false, false),
};

// granter (row) may hand out granted (column)
const GRANT: Record<Role, Row> = {
  owner: row(true, true, true, true),
  admin: row(false, true, true, true),
  member: row(false, false, true, true),
  viewer: row(false, false, false, true),
};

const ALL_ROLES: Role[] = ['owner', 'admin', 'member', 'viewer'];

describe('roles', () => {
  it('the roles are exactly owner, admin, member and viewer', () => {
    expect([...ROLES].sort()).toEqual([...ALL_ROLES].sort());
  });

  const canCases = Object.entries(CAN).flatMap(([action, r]) => ALL_ROLES.map((role) => ({ role, action: action as Action, allowed: r[role] })));
  it.each(canCases)('a $role may $action: $allowed', ({ role, action, allowed }) => {
    expect(can(role, action)).toBe(allowed);
  });

  const grantCases = ALL_ROLES.flatMap((granter) => ALL_ROLES.map((granted) => ({ granter, granted, allowed: GRANT[granter][granted] })));
  it.each(grantCases)('a $granter may grant the $granted role: $allowed', ({ granter, granted, allowed }) => {
    expect(canGrant(granter, granted)).toBe(allowed);
  });
});

describe('scopes', () => {
  it('the scopes are admin, read, and read and write of each resource (events are read only; webhooks have admin)', () => {
    expect([...SCOPES].sort()).toEqual(
      [
        'admin', 'read',
        'workspaces:read', 'workspaces:write', 'members:read', 'members:write', 'projects:read', 'projects:write',
        'tasks:read', 'tasks:write', 'sprints:read', 'sprints:write', 'labels:read', 'labels:write',
        'comments:read', 'comments:write', 'attachments:read', 'attachments:write', 'time:read', 'time:write',
        'events:read', 'keys:read', 'keys:write', 'webhooks:read', 'webhooks:admin',
      ].sort(),
    );
  });

  it.each([
    { tag: 'Tasks', method: 'GET', op: 'getTask', needs: 'tasks:read' },
    { tag: 'Tasks', method: 'POST', op: 'createTask', needs: 'tasks:write' },
    { tag: 'Tasks', method: 'DELETE', op: 'deleteTask', needs: 'tasks:write' },
    { tag: 'Workflows', method: 'PATCH', op: 'patchStatus', needs: 'projects:write' },
    { tag: 'Time tracking (GitScrum-style)', method: 'POST', op: 'createTimeTracking', needs: 'time:write' },
    { tag: 'Time entries', method: 'GET', op: 'listTimeEntries', needs: 'time:read' },
    { tag: 'Administration', method: 'GET', op: 'adminListUsers', needs: 'admin' },
    { tag: 'API keys', method: 'GET', op: 'getCurrentApiKey', needs: 'none' },
    { tag: 'API keys', method: 'POST', op: 'createApiKey', needs: 'keys:write' },
    { tag: 'System', method: 'GET', op: 'health', needs: 'none' },
    { tag: 'Not mapped', method: 'GET', op: 'mystery', needs: 'admin' },
    { tag: undefined, method: 'GET', op: undefined, needs: 'admin' },
  ])('$op ($tag, $method) needs $needs', ({ tag, method, op, needs }) => {
    expect(requiredScope(tag, method, op)).toBe(needs);
  });

  it.each([
    { scopes: ['admin'], needs: 'tasks:write', ok: true },
    { scopes: ['admin'], needs: 'admin', ok: true },
    { scopes: ['read'], needs: 'tasks:read', ok: true },
    { scopes: ['read'], needs: 'tasks:write', ok: false },
    { scopes: ['read'], needs: 'admin', ok: false },
    { scopes: ['tasks:read'], needs: 'tasks:read', ok: true },
    { scopes: ['tasks:read'], needs: 'tasks:write', ok: false },
    { scopes: ['tasks:read'], needs: 'sprints:read', ok: false },
    { scopes: ['tasks:write'], needs: 'tasks:read', ok: true },
    { scopes: ['tasks:write'], needs: 'tasks:write', ok: true },
    { scopes: ['tasks:write'], needs: 'time:write', ok: false },
    { scopes: ['tasks:write', 'time:write'], needs: 'time:write', ok: true },
    { scopes: ['webhooks:admin'], needs: 'webhooks:read', ok: true },
    { scopes: ['tasks:write'], needs: 'admin', ok: false },
    { scopes: [], needs: 'none', ok: true },
    { scopes: [], needs: 'tasks:read', ok: false },
  ])('a key with $scopes may do what needs $needs: $ok', ({ scopes, needs, ok }) => {
    expect(satisfies(scopes, needs)).toBe(ok);
  });

  it.each([
    { scopes: ['admin'], write: true },
    { scopes: ['read'], write: false },
    { scopes: ['read', 'admin'], write: true },
    { scopes: ['admin', 'read'], write: true },
    { scopes: [], write: false },
    { scopes: ['ADMIN'], write: false },
    { scopes: ['administrator'], write: false },
    { scopes: ['task:write'], write: false },
    { scopes: ['tasks:write'], write: true },
    { scopes: ['tasks:read', 'time:read'], write: false },
    { scopes: ['webhooks:admin'], write: true },
  ])('a key with scopes $scopes may write: $write', ({ scopes, write }) => {
    expect(allowsWrite(scopes)).toBe(write);
  });

  it.each([
    { minter: ['admin'], requested: ['admin'], ok: true },
    { minter: ['admin'], requested: ['read'], ok: true },
    { minter: ['admin'], requested: ['admin', 'read'], ok: true },
    { minter: ['read'], requested: ['read'], ok: true },
    { minter: ['read'], requested: ['admin'], ok: false },
    { minter: ['read'], requested: ['read', 'admin'], ok: false },
    { minter: ['read'], requested: ['admin', 'read'], ok: false },
    { minter: ['read'], requested: ['task:write'], ok: false },
    { minter: ['read', 'admin'], requested: ['admin'], ok: true },
    { minter: ['read'], requested: ['tasks:read'], ok: true },
    { minter: ['tasks:write'], requested: ['tasks:read'], ok: true },
    { minter: ['tasks:write'], requested: ['tasks:write'], ok: true },
    { minter: ['tasks:read'], requested: ['tasks:write'], ok: false },
    { minter: ['tasks:read'], requested: ['read'], ok: false },
    { minter: ['tasks:write'], requested: ['time:write'], ok: false },
    { minter: ['tasks:write', 'keys:write'], requested: ['tasks:write', 'sprints:read'], ok: false },
    { minter: ['admin'], requested: ['webhooks:admin', 'time:write'], ok: true },
  ])('a key with $minter may mint a key with $requested: $ok', ({ minter, requested, ok }) => {
    expect(canMint(minter, requested)).toBe(ok);
  });
});

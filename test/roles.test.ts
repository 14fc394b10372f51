// The pure access rules, stated as explicit tables: a change to a rule must change a row here.
import { describe, expect, it } from 'vitest';
import { can, canGrant, ROLES, type Action } from '../src/access/roles.ts';
import { allowsWrite, canMint, SCOPES } from '../src/access/scopes.ts';
import type { Role } from '../src/db/schema.ts';

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
  it('the scopes are exactly admin and read', () => {
    expect([...SCOPES].sort()).toEqual(['admin', 'read']);
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
  ])('a key with $minter may mint a key with $requested: $ok', ({ minter, requested, ok }) => {
    expect(canMint(minter, requested)).toBe(ok);
  });
});

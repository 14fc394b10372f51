// Builders for test data, all through the public API, so every test starts from states a real
// client could have produced.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { TestApp } from './app.ts';

let counter = 0;
export function unique(prefix = 'x'): string {
  counter += 1;
  return `${prefix}${counter}${randomBytes(3).toString('hex')}`;
}

export interface Actor {
  userId: string;
  keyId: string;
  key: string;
  email: string;
}

async function ok<T = any>(t: TestApp, opts: Parameters<TestApp['request']>[0], status: number): Promise<T> {
  const res = await t.request(opts);
  expect(res.status, `${opts.method ?? 'GET'} ${opts.url}: ${res.text}`).toBe(status);
  return (res.body as { data: T }).data;
}

/** A user with an API key of the given scopes (default admin). */
export async function makeUser(t: TestApp, opts: { scopes?: string[]; instanceAdmin?: boolean; email?: string } = {}): Promise<Actor> {
  const email = opts.email ?? `${unique('user')}@example.test`;
  const user = await ok(t, { method: 'POST', url: '/v1/admin/users', key: t.adminKey, body: { email, is_instance_admin: opts.instanceAdmin ?? false } }, 201);
  const key = await ok(t, { method: 'POST', url: `/v1/admin/users/${user.id}/api-keys`, key: t.adminKey, body: { name: 'test', scopes: opts.scopes ?? ['admin'] } }, 201);
  return { userId: user.id, keyId: key.id, key: key.secret, email };
}

/** Another key for an existing user. */
export async function makeKey(t: TestApp, actor: Actor, body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const key = await ok(t, { method: 'POST', url: `/v1/admin/users/${actor.userId}/api-keys`, key: t.adminKey, body: { name: 'extra', ...body } }, 201);
  return { id: key.id, key: key.secret };
}

export async function makeWorkspace(t: TestApp, owner: Actor, body: Record<string, unknown> = {}): Promise<any> {
  return ok(t, { method: 'POST', url: '/v1/workspaces', key: owner.key, body: { name: unique('Workspace '), ...body } }, 201);
}

/** Adds `user` to the workspace with `role`, invited by `by` (an admin or owner). */
export async function addMember(t: TestApp, by: Actor, workspaceId: string, user: Actor, role = 'member'): Promise<any> {
  return ok(t, { method: 'POST', url: `/v1/workspaces/${workspaceId}/members`, key: by.key, body: { email: user.email, role } }, 201);
}

export async function makeProject(t: TestApp, by: Actor, workspaceId: string, body: Record<string, unknown> = {}): Promise<any> {
  return ok(t, { method: 'POST', url: `/v1/workspaces/${workspaceId}/projects`, key: by.key, body: { name: unique('Project '), ...body } }, 201);
}

export async function makeTask(t: TestApp, by: Actor, projectId: string, body: Record<string, unknown> = {}): Promise<any> {
  return ok(t, { method: 'POST', url: `/v1/projects/${projectId}/tasks`, key: by.key, body: { title: unique('Task '), ...body } }, 201);
}

/** An owner with a workspace and a project: the usual starting point. */
export async function makeWorld(t: TestApp) {
  const owner = await makeUser(t);
  const workspace = await makeWorkspace(t, owner);
  const project = await makeProject(t, owner, workspace.id);
  return { owner, workspace, project };
}

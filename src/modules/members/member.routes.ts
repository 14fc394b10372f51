import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { sendList, sendVersioned } from '../../http/reply.ts';
import { Deleted, List, MUTATION_ERRORS, One, PathId, withErrors } from '../../http/schemas.ts';
import { InviteMemberBody, ListMembersQuery, MemberSchema, UpdateMemberBody } from './member.schemas.ts';

const tags = ['Members'];

export function memberRoutes(app: App, deps: Deps): void {
  const svc = deps.services.members;

  app.get('/v1/workspaces/:id/members', {
    schema: { operationId: 'listMembers', summary: 'List members of a workspace', tags, params: PathId, querystring: ListMembersQuery, response: withErrors({ 200: List(MemberSchema) }) },
  }, async (req, reply) => sendList(req, reply, await svc.list(req.principal!, req.params.id, req.query)));

  app.post('/v1/workspaces/:id/members', {
    schema: {
      operationId: 'inviteMember',
      summary: 'Invite a member by email (creates the user if new)',
      tags,
      params: PathId,
      body: InviteMemberBody,
      response: withErrors({ 201: One(MemberSchema) }, ...MUTATION_ERRORS),
    },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 201, (tx) => svc.invite(tx, req.principal!, req.params.id, req.body)) }));

  app.get('/v1/members/:id', {
    schema: { operationId: 'getMember', summary: 'Get a membership', tags, params: PathId, response: withErrors({ 200: One(MemberSchema) }) },
  }, async (req, reply) => {
    const r = await svc.get(req.principal!, req.params.id);
    return sendVersioned(reply, r.member, r.version);
  });

  app.patch('/v1/members/:id', {
    schema: { operationId: 'updateMember', summary: "Change a member's role", tags, params: PathId, body: UpdateMemberBody, response: withErrors({ 200: One(MemberSchema) }, ...MUTATION_ERRORS) },
  }, async (req, reply) => {
    const r = await deps.mutate(req, reply, 200, (tx) => svc.updateRole(tx, req.principal!, req.params.id, req.body, req.headers['if-match']));
    return sendVersioned(reply, r.member, r.version);
  });

  app.delete('/v1/members/:id', {
    schema: { operationId: 'removeMember', summary: 'Remove a member (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }, 409) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id)) }));
}

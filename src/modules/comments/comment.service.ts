import type { Db } from '../../db/database.ts';
import type { Comment } from '../../db/schema.ts';
import { diff, recordEvent } from '../../events/event.repository.ts';
import { checkIfMatch } from '../../http/etag.ts';
import { errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import { can } from '../../access/roles.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { toPage } from '../../lib/pagination.ts';
import { visibleTask } from '../tasks/task.service.ts';
import { presentComment } from './comment.presenter.ts';
import { commentRepository } from './comment.repository.ts';
import type { CommentInput, ListCommentsInput } from './comment.schemas.ts';

export interface CommentServiceDeps {
  db: Db;
  clock: Clock;
  ids: Ids;
}

/** Comments on tasks: members write them; only the author edits one; the author or an admin deletes it. */
export class CommentService {
  constructor(private readonly deps: CommentServiceDeps) {}

  private async load(db: Db, p: Principal, id: string, lock = false): Promise<Comment> {
    const comment = await commentRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!comment || !projectVisible(p, comment.workspace_id, comment.project_id)) throw errors.notFound('Comment');
    authorize(p, comment.workspace_id, 'task:read', 'Comment', comment.project_id);
    return comment;
  }

  async list(p: Principal, taskId: string, q: ListCommentsInput) {
    const task = await visibleTask(this.deps.db, p, taskId, 'task:read');
    const page = toPage(q);
    const { rows, total } = await commentRepository(this.deps.db).list(task.id, q.order ?? 'asc', page.perPage, page.offset);
    return { page, total, items: rows.map(presentComment) };
  }

  async get(p: Principal, id: string) {
    const comment = await this.load(this.deps.db, p, id);
    return { comment: presentComment(comment), version: comment.version };
  }

  async create(tx: Db, p: Principal, taskId: string, input: CommentInput) {
    const task = await visibleTask(tx, p, taskId, 'comment:write');
    const now = this.deps.clock.now();
    const comment = await commentRepository(tx).insert({
      id: this.deps.ids.next('cmt'),
      workspace_id: task.workspace_id,
      project_id: task.project_id,
      task_id: task.id,
      author_id: p.userId,
      body: input.body,
      created_at: now,
      updated_at: now,
    });
    const data = presentComment(comment);
    await this.event(tx, p, comment, 'comment.created', data);
    return data;
  }

  /** Only the author edits a comment: not even an owner puts words in someone else's mouth. */
  async update(tx: Db, p: Principal, id: string, input: CommentInput, ifMatch: string | string[] | undefined) {
    const before = await this.load(tx, p, id, true);
    authorize(p, before.workspace_id, 'comment:write', 'Comment', before.project_id);
    if (before.author_id !== p.userId) throw errors.forbidden('Only the author of a comment can edit it', 'NOT_AUTHOR');
    checkIfMatch(ifMatch, before.version);
    if (input.body === before.body) return { comment: presentComment(before), version: before.version };
    const after = await commentRepository(tx).update(id, input.body, this.deps.clock.now());
    const data = presentComment(after);
    await this.event(tx, p, after, 'comment.updated', data, diff(presentComment(before), data));
    return { comment: data, version: after.version };
  }

  /** The author or an admin deletes a comment. Idempotent: one that is gone, or was never visible, answers the same 200. */
  async remove(tx: Db, p: Principal, id: string, ifMatch: string | string[] | undefined) {
    const found = await commentRepository(tx).find(visibleWorkspaceIds(p), id, true);
    if (!found || !projectVisible(p, found.workspace_id, found.project_id)) return { id, deleted: true as const };
    const role = authorize(p, found.workspace_id, 'task:read', 'Comment', found.project_id);
    const own = found.author_id === p.userId && can(role, 'comment:write');
    if (!own && !can(role, 'comment:moderate')) throw errors.forbidden("Only the comment's author or an admin can delete it", 'NOT_AUTHOR');
    checkIfMatch(ifMatch, found.version);
    await commentRepository(tx).delete(id);
    await this.event(tx, p, found, 'comment.deleted', presentComment(found));
    return { id, deleted: true as const };
  }

  private event(tx: Db, p: Principal, c: Comment, type: string, data: unknown, changes?: Record<string, { from: unknown; to: unknown }>) {
    return recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: c.workspace_id, projectId: c.project_id, type, resourceType: 'comment', resourceId: c.id, data, changes });
  }
}

import type { Readable } from 'node:stream';
import type { Database, Db } from '../../db/database.ts';
import { afterCommit, inTransaction } from '../../db/after-commit.ts';
import type { Attachment } from '../../db/schema.ts';
import { recordEvent } from '../../events/event.repository.ts';
import { AppError, errors } from '../../http/errors.ts';
import { actorOf, projectVisible, visibleWorkspaceIds, type Principal } from '../../http/principal.ts';
import { authorize } from '../../access/access.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Ids } from '../../lib/ids.ts';
import { visibleTask } from '../tasks/task.service.ts';
import { presentAttachment } from './attachment.presenter.ts';
import { attachmentRepository } from './attachment.repository.ts';
import { ACCEPTED, acceptedType } from './content-type.ts';
import type { AttachmentStore } from './storage.ts';

export interface AttachmentServiceDeps {
  database: Database;
  clock: Clock;
  ids: Ids;
  store: AttachmentStore;
  /** The largest file accepted, in bytes (SPRINTLANE_MAX_UPLOAD_BYTES). */
  maxBytes: number;
}

/** An uploaded part as @fastify/multipart gives it. */
export interface UploadedPart {
  file: Readable & { truncated?: boolean };
  filename: string;
  mimetype: string;
}

/** A file name as shown and sent back: no directory part, no control characters, at most 255 characters. */
export function cleanFilename(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...base].slice(0, 255).join('') || 'file';
}

const tooLarge = (max: number) => new AppError(413, 'FILE_TOO_LARGE', `The file is larger than the limit of ${max} bytes`, 'file');

export class AttachmentService {
  constructor(private readonly deps: AttachmentServiceDeps) {}

  private async load(db: Db, p: Principal, id: string, lock = false): Promise<Attachment> {
    const a = await attachmentRepository(db).find(visibleWorkspaceIds(p), id, lock);
    if (!a || !projectVisible(p, a.workspace_id, a.project_id)) throw errors.notFound('Attachment');
    authorize(p, a.workspace_id, 'task:read', 'Attachment', a.project_id);
    return a;
  }

  async list(p: Principal, taskId: string) {
    const task = await visibleTask(this.deps.database.db, p, taskId, 'task:read');
    return (await attachmentRepository(this.deps.database.db).list(task.id)).map(presentAttachment);
  }

  async get(p: Principal, id: string) {
    return presentAttachment(await this.load(this.deps.database.db, p, id));
  }

  /** The attachment and a stream of its bytes, for a caller who may read its task. */
  async open(p: Principal, id: string) {
    const a = await this.load(this.deps.database.db, p, id);
    return { attachment: a, stream: this.deps.store.read(a.id) };
  }

  /**
   * Stores an upload: the caller's access to the task is checked before a byte is kept; the type
   * must be accepted and the bytes must be of it; the file is written and synced, then its row
   * and event are committed (a failed commit removes the file).
   */
  async upload(p: Principal, taskId: string, readPart: () => Promise<UploadedPart | undefined>) {
    const task = await visibleTask(this.deps.database.db, p, taskId, 'task:write');
    const part = await readPart();
    if (!part) throw errors.badRequest('Send the file as a multipart/form-data part named `file`', 'file', 'FILE_REQUIRED');
    const type = acceptedType(part.mimetype);
    if (!type) {
      part.file.resume();
      throw new AppError(415, 'UNSUPPORTED_CONTENT_TYPE', `Files of type ${JSON.stringify(part.mimetype)} are not accepted; accepted: ${Object.keys(ACCEPTED).join(', ')}`, 'file');
    }
    let received;
    try {
      received = await this.deps.store.receive(part.file, type);
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(this.deps.maxBytes);
      throw err;
    }
    if (part.file.truncated) {
      await this.deps.store.discard(received.tmp);
      throw tooLarge(this.deps.maxBytes);
    }
    if (!received.matches) {
      await this.deps.store.discard(received.tmp);
      throw errors.unprocessable(`The file's content is not ${type}: send it with the type it has`, 'file', 'CONTENT_TYPE_MISMATCH');
    }
    const id = this.deps.ids.next('att');
    await this.deps.store.keep(received.tmp, id);
    try {
      return await inTransaction(this.deps.database.db, async (tx) => {
        const row = await attachmentRepository(tx).insert({
          id,
          workspace_id: task.workspace_id,
          project_id: task.project_id,
          task_id: task.id,
          uploaded_by: p.userId,
          filename: cleanFilename(part.filename),
          content_type: type,
          size_bytes: received.size,
          sha256: received.sha256,
          created_at: this.deps.clock.now(),
        });
        const data = presentAttachment(row);
        await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: row.workspace_id, projectId: row.project_id, type: 'attachment.created', resourceType: 'attachment', resourceId: row.id, data });
        return data;
      });
    } catch (err) {
      await this.deps.store.remove(id);
      // The task went while the file was arriving.
      if ((err as { code?: string }).code === '23503') throw errors.notFound('Task');
      throw err;
    }
  }

  /** Whoever may change the task deletes its attachments. Idempotent. The file goes once the row has. */
  async remove(tx: Db, p: Principal, id: string) {
    const found = await attachmentRepository(tx).find(visibleWorkspaceIds(p), id, true);
    if (!found || !projectVisible(p, found.workspace_id, found.project_id)) return { id, deleted: true as const };
    authorize(p, found.workspace_id, 'task:write', 'Attachment', found.project_id);
    await attachmentRepository(tx).delete(id);
    await recordEvent(tx, this.deps.ids, actorOf(p), { workspaceId: found.workspace_id, projectId: found.project_id, type: 'attachment.deleted', resourceType: 'attachment', resourceId: id, data: presentAttachment(found) });
    afterCommit(tx, () => void this.deps.store.remove(id).catch(() => undefined));
    return { id, deleted: true as const };
  }

  /** Files no row names any more (see AttachmentStore.sweep), older than an hour. */
  sweep(): Promise<number> {
    return this.deps.store.sweep((ids) => attachmentRepository(this.deps.database.db).existing(ids), 60 * 60 * 1000);
  }
}

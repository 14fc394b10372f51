import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import type { App } from '../../http/app-types.ts';
import { AppError } from '../../http/errors.ts';
import { Deleted, One, PathId, withErrors } from '../../http/schemas.ts';
import { AttachmentSchema } from './attachment.schemas.ts';
import type { UploadedPart } from './attachment.service.ts';

const tags = ['Attachments'];

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
function disposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function attachmentRoutes(app: App, deps: Deps): void {
  const svc = deps.services.attachments;

  app.post('/v1/tasks/:id/attachments', {
    schema: {
      operationId: 'uploadAttachment',
      summary: `Attach a file to a task: multipart/form-data with one part named \`file\` (at most ${deps.config.maxUploadBytes} bytes; its type must be accepted and match its content)`,
      tags,
      params: PathId,
      consumes: ['multipart/form-data'],
      response: withErrors({ 201: One(AttachmentSchema) }, 409, 415, 422),
    },
  }, async (req, reply) => {
    // Read only once the caller's access to the task is known: a stranger learns nothing and
    // sends nothing that is kept.
    const readPart = async (): Promise<UploadedPart | undefined> => {
      let part;
      try {
        part = await req.file({ limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 10, parts: 11 }, throwFileSizeLimit: true });
      } catch (err) {
        if ((err as { code?: string }).code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
          throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Upload the file as multipart/form-data, in a part named `file`', 'file');
        }
        throw err;
      }
      if (part && part.fieldname !== 'file') {
        part.file.resume();
        throw new AppError(400, 'FILE_REQUIRED', 'Send the file in a multipart part named `file`', 'file');
      }
      return part;
    };
    const data = await svc.upload(req.principal!, req.params.id, readPart);
    void reply.code(201);
    return { data };
  });

  app.get('/v1/tasks/:id/attachments', {
    schema: { operationId: 'listAttachments', summary: "A task's attachments, oldest first", tags, params: PathId, response: withErrors({ 200: Type.Object({ data: Type.Array(AttachmentSchema) }, { additionalProperties: false }) }) },
  }, async (req) => ({ data: await svc.list(req.principal!, req.params.id) }));

  app.get('/v1/attachments/:id', {
    schema: { operationId: 'getAttachment', summary: "An attachment's details", tags, params: PathId, response: withErrors({ 200: One(AttachmentSchema) }) },
  }, async (req) => ({ data: await svc.get(req.principal!, req.params.id) }));

  app.get('/v1/attachments/:id/content', {
    schema: {
      operationId: 'downloadAttachment',
      summary: "An attachment's bytes, as a download, for whoever may read its task",
      tags,
      params: PathId,
      response: withErrors({ 200: Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'The file, with its content type' }) }),
    },
  }, async (req, reply) => {
    const { attachment, stream } = await svc.open(req.principal!, req.params.id);
    const text = attachment.content_type.startsWith('text/') || attachment.content_type === 'application/json';
    void reply
      .type(text ? `${attachment.content_type}; charset=utf-8` : attachment.content_type)
      .header('content-length', String(attachment.size_bytes))
      .header('content-disposition', disposition(attachment.filename))
      .header('x-content-type-options', 'nosniff')
      .header('etag', `"${attachment.sha256}"`);
    return reply.send(stream);
  });

  app.delete('/v1/attachments/:id', {
    schema: { operationId: 'deleteAttachment', summary: 'Delete an attachment (idempotent)', tags, params: PathId, response: withErrors({ 200: Deleted }) },
  }, async (req, reply) => ({ data: await deps.mutate(req, reply, 200, (tx) => svc.remove(tx, req.principal!, req.params.id)) }));
}

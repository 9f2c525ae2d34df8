import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { attachmentDeleter, attachmentFinder, attachmentLister, attachmentUploader } from '../../../commands/tickets/attachments.js';
import { asciiFallback } from '../../../attachments/types.js';
import { AppError } from '../../../errors/index.js';
import { presentAttachment } from '../../../presenters/attachment.js';
import type { ApiRouter } from '../../api-router.js';
import type { RouteDeps } from '../../context.js';
import { commandContext, IdParams, Timestamp } from '../common.js';
import { FromTicketSchema, TicketAcceptedSchema, TicketRefParams } from '../tickets/schema.js';

const AttachmentSchema = z
  .object({
    id: z.uuid(),
    ticket_id: z.uuid(),
    note_id: z.uuid().nullable(),
    filename: z.string().describe("the client's name, sanitised for display (never a path)"),
    content_type: z.string().describe('detected from the bytes'),
    size_bytes: z.number().int(),
    sha256: z.string(),
    uploaded_by_id: z.uuid().nullable(),
    created_at: Timestamp,
    download_url: z.string(),
    from_ticket: FromTicketSchema,
  })
  .openapi('Attachment');

const UploadSchema = z.object({
  file: z.array(z.string().openapi({ type: 'string', format: 'binary' })).describe('one or more files (repeat the part)'),
  note_id: z.uuid().optional().describe('attach to this note of the ticket'),
});

export function attachmentRoutes(api: ApiRouter, deps: RouteDeps): void {
  const common = { tags: ['attachments'], secured: true, before: deps.guard };

  api.route({
    ...common,
    method: 'post',
    path: '/tickets/{id}/attachments',
    operationId: 'uploadAttachments',
    summary: 'Upload one or more files (multipart, streamed to disk; type checked from the bytes)',
    params: TicketRefParams,
    multipart: UploadSchema,
    responses: {
      201: { description: 'Stored and recorded', schema: z.array(AttachmentSchema) },
      202: { description: 'Stored; recorded as soon as a worker runs', schema: TicketAcceptedSchema },
      403: { description: 'This API key may not write tickets' },
      404: { description: 'No such ticket' },
      413: { description: `A file is larger than MAX_UPLOAD_SIZE_MB` },
      415: { description: 'Not multipart, or a file of a type that is not allowed' },
    },
    handler: async (ctx, { params }) => {
      const result = await attachmentUploader(commandContext(ctx, deps), params.id, ctx.req);
      if (result.status === 'pending') {
        ctx.status = 202;
        ctx.body = { id: result.ids[0], status: 'pending', message: 'Accepted; the files will be recorded as soon as a worker runs.' };
        return;
      }
      ctx.status = 201;
      ctx.body = result.attachments.map(presentAttachment);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/tickets/{id}/attachments',
    operationId: 'listTicketAttachments',
    summary: "A ticket's attachments",
    params: TicketRefParams,
    responses: {
      200: { description: 'Attachments, oldest first', schema: z.array(AttachmentSchema) },
      404: { description: 'No such ticket' },
    },
    handler: async (ctx, { params }) => {
      ctx.body = (await attachmentLister(commandContext(ctx, deps), params.id)).map(presentAttachment);
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/attachments/{id}/download',
    operationId: 'downloadAttachment',
    summary: 'Download a file (streamed, as an attachment, never sniffed by the browser)',
    params: IdParams,
    responses: {
      200: {
        description: 'The file, with the type detected at upload',
        mediaType: '*/*',
        rawSchema: { type: 'string', format: 'binary' },
        headers: ['ETag', 'Content-Disposition'],
      },
      404: { description: 'No such attachment (or its ticket is not visible), or its file is missing' },
    },
    handler: async (ctx, { params }) => {
      const { attachment, file } = await attachmentFinder(commandContext(ctx, deps), params.id);
      const info = await stat(file).catch(() => null);
      if (!info) {
        ctx.state.log.error({ attachment_id: attachment.id }, 'attachment file missing');
        throw new AppError(404, 'file_missing', 'The file of this attachment is missing.');
      }
      // RFC 6266: an ASCII filename= for old clients plus filename*=UTF-8'' with the real name
      ctx.attachment(attachment.originalFilename, { type: 'attachment', fallback: asciiFallback(attachment.originalFilename) });
      ctx.type = attachment.contentType;
      ctx.length = info.size;
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
      ctx.set('Cache-Control', 'private, no-store');
      ctx.set('ETag', `"${attachment.sha256}"`);
      ctx.body = createReadStream(file);
    },
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/attachments/{id}',
    operationId: 'deleteAttachment',
    summary: 'Delete a file (the uploader, a manager or an admin): the row, then the file',
    params: IdParams,
    responses: {
      204: { description: 'Deleted' },
      202: { description: 'Accepted', schema: TicketAcceptedSchema },
      403: { description: 'Not yours, or this API key may not write tickets' },
      404: { description: 'No such attachment' },
    },
    handler: async (ctx, { params }) => {
      const outcome = await attachmentDeleter(commandContext(ctx, deps), params.id);
      if (outcome === 'pending') {
        ctx.status = 202;
        ctx.body = { id: params.id, status: 'pending', message: 'Accepted; the file will be deleted as soon as a worker runs.' };
        return;
      }
      ctx.status = 204;
    },
  });
}

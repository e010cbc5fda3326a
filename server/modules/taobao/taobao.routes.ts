import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { currentStaff } from '../../infra/auth';
import { AppError, invalid } from '../../infra/errors';
import type { JobQueue } from '../../infra/queue';
import type { Db } from '../../infra/db';
import type { TaobaoImportService } from './taobao-import.service';

export interface TaobaoRoutesOptions {
  imports: TaobaoImportService;
  queue: JobQueue;
  db: Db;
  dataDir: string;
  maxBytes: number;
  jobName: string;
}

const WRITE = { roles: ['owner', 'operator'] as const };

const importView = z.object({
  id: z.string(),
  status: z.string(),
  phase: z.string(),
  source: z.string(),
  channelKind: z.string(),
  storeName: z.string().nullable(),
  files: z.record(z.string(), z.string()),
  progress: z.object({ bytesRead: z.number(), bytesTotal: z.number(), percent: z.number() }),
  summary: z.any().nullable(),
  error: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

/** Upload of seller-center reports, run as a queued job whose progress the console polls. */
export const taobaoRoutes: FastifyPluginAsyncZod<TaobaoRoutesOptions> = async (app, opts) => {
  await app.register(multipart, { limits: { fileSize: opts.maxBytes, files: 2, fields: 10, fieldSize: 1000 } });

  app.post(
    '/imports',
    {
      config: WRITE,
      schema: {
        tags: ['imports'],
        summary: 'Upload a Taobao/Tmall order report (field "orders") and/or item report ("items"); fields channelKind, storeName',
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: { 202: importView },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw invalid('multipart_required', 'Send the files as multipart/form-data');
      const dir = path.resolve(opts.dataDir, 'imports', randomUUID());
      fs.mkdirSync(dir, { recursive: true });
      const files: Record<string, string> = {};
      const names: Record<string, string> = {};
      const fields: Record<string, string> = {};
      try {
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'orders' && part.fieldname !== 'items') {
              part.file.resume();
              throw invalid('unknown_file_field', 'Files go in the fields "orders" and "items"');
            }
            const target = path.join(dir, `${part.fieldname}.csv`);
            await pipeline(part.file, fs.createWriteStream(target));
            if (part.file.truncated) throw new AppError('payload_too_large', 'file_too_large', `A file is larger than ${Math.round(opts.maxBytes / 1048576)} MB`);
            files[part.fieldname] = target;
            names[part.fieldname] = part.filename.slice(0, 200);
          } else {
            fields[part.fieldname] = String(part.value);
          }
        }
        // Multipart fields and file names skip the JSON checks: the same refusal of U+0000 here.
        for (const [name, value] of [...Object.entries(fields), ...Object.entries(names).map(([f, n]) => [`${f} file name`, n] as const)]) {
          if (value.includes('\u0000')) throw invalid('invalid_request', `Invalid body: ${name} must not contain a NUL character (U+0000)`);
        }
        const channelKind = fields.channelKind ?? 'taobao';
        if (channelKind !== 'taobao' && channelKind !== 'tmall') throw invalid('invalid_channel_kind', 'channelKind is taobao or tmall');
        const storeName = fields.storeName?.trim() || undefined;
        if (storeName && storeName.length > 60) throw invalid('invalid_store_name', 'storeName is at most 60 characters');
        const id = await opts.db.transaction({ requestId: req.id }, async (tx) => {
          const importId = await opts.imports.create(tx, {
            source: 'upload',
            channelKind,
            storeName,
            ordersFile: files.orders,
            itemsFile: files.items,
            fileNames: names,
            createdBy: `staff:${currentStaff(req).username}`,
          });
          await opts.queue.send(tx, opts.jobName, { importId });
          return importId;
        });
        return reply.code(202).send(await opts.imports.status({ requestId: req.id }, id));
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw new AppError('payload_too_large', 'file_too_large', `A file is larger than ${Math.round(opts.maxBytes / 1048576)} MB`);
        }
        throw err;
      }
    },
  );

  app.get(
    '/imports',
    {
      config: WRITE,
      schema: { tags: ['imports'], summary: 'Recent imports, newest first', security: [{ bearer: [] }], response: { 200: z.array(importView) } },
    },
    async (req) => opts.imports.recent({ requestId: req.id }, 50),
  );

  app.get(
    '/imports/:id',
    {
      config: WRITE,
      schema: { tags: ['imports'], summary: 'Import status and progress', security: [{ bearer: [] }], params: z.object({ id: z.uuid() }), response: { 200: importView } },
    },
    async (req) => opts.imports.status({ requestId: req.id }, req.params.id),
  );

  app.get(
    '/imports/:id/rejects',
    {
      config: WRITE,
      schema: {
        tags: ['imports'],
        summary: 'Rows an import rejected, with file, line number and reason',
        security: [{ bearer: [] }],
        params: z.object({ id: z.uuid() }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).max(1_000_000).default(0) }),
        response: { 200: z.array(z.object({ file: z.string(), line: z.number().int(), reason: z.string(), excerpt: z.string().nullable() })) },
      },
    },
    async (req) => opts.imports.rejects({ requestId: req.id }, req.params.id, req.query.limit, req.query.offset),
  );
};

/**
 * Attachments over real HTTP: several files per request and a byte-exact round trip with hash;
 * type from the bytes (disguised executables refused); exact-limit and over-limit files; empty
 * files; hostile names; a client that disconnects mid-upload; concurrent uploads; permissions;
 * audit and events; and the sweep of orphaned files.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOrphanUploads } from '../../src/commands/tickets/attachments.js';
import { Attachment, AuditLog, Event } from '../../src/models/index.js';
import { eventually } from '../helpers/eventually.js';
import { createApiKey, createGroup, createUser, ensureSlaPolicies, login, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let dir: string;
let admin: string;
const LIMIT = 1024 * 1024; // MAX_UPLOAD_SIZE_MB=1

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'servicemeow-uploads-'));
  h = await startHarness({ env: { UPLOAD_DIR: dir, MAX_UPLOAD_SIZE_MB: '1', RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  admin = (await signedIn(h, 'admin')).token;
});
afterAll(async () => {
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'), Buffer.alloc(64, 7)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const EXE = Buffer.concat([
  Buffer.from('MZ'),
  Buffer.alloc(58),
  Buffer.from([0x80, 0, 0, 0]),
  Buffer.alloc(64),
  Buffer.from('PE\0\0'),
  Buffer.alloc(200, 1),
]);

/** A multipart body built by hand, so file names reach the server exactly as written (CRLF, NUL…). */
function multipart(parts: { name?: string; filename?: string; encodedFilename?: string; content: Buffer | string; type?: string }[]) {
  const boundary = `----servicemeow${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const isFile = p.filename !== undefined || p.encodedFilename !== undefined;
    const disposition =
      p.encodedFilename !== undefined
        ? `form-data; name="file"; filename*=UTF-8''${p.encodedFilename}` // RFC 5987: any byte, percent-encoded
        : isFile
          ? `form-data; name="${p.name ?? 'file'}"; filename="${p.filename}"`
          : `form-data; name="${p.name}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${isFile ? `Content-Type: ${p.type ?? 'application/octet-stream'}\r\n` : ''}\r\n`,
        'binary',
      ),
    );
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function upload(
  ticket: string,
  parts: Parameters<typeof multipart>[0],
  auth: { token?: string; apiKey?: string } = { token: admin },
) {
  const { body, contentType } = multipart(parts);
  return call(h, 'POST', `/api/v1/tickets/${ticket}/attachments`, { ...auth, rawBody: body, headers: { 'content-type': contentType } });
}

async function download(id: string, token = admin) {
  const res = await fetch(`${h.baseUrl}/api/v1/attachments/${id}/download`, { headers: { authorization: `Bearer ${token}` } });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

async function newTicket(token = admin, body: Record<string, unknown> = {}) {
  const res = await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Has files', priority: 'low', ...body } });
  expect(res.status).toBe(201);
  return res.body as { id: string; ticket_number: string };
}

/** Every file under the ticket's folder, including temporary ones. */
const filesOf = async (ticketId: string) => readdir(path.join(dir, ticketId)).catch(() => [] as string[]);

describe('uploads', () => {
  it('stores several files per request and gives each back byte for byte, with its hash and safe headers', async () => {
    const t = await newTicket();
    const csv = Buffer.from('id,name\n1,Printer\n2,Scanner\n');
    const res = await upload(t.ticket_number, [
      { filename: 'screenshot.png', content: PNG, type: 'image/png' },
      { filename: 'manual.pdf', content: PDF },
      { filename: 'inventory.csv', content: csv, type: 'text/csv' },
    ]);
    expect(res.status).toBe(201);
    expect(res.body.map((a: { filename: string; content_type: string }) => [a.filename, a.content_type]).sort()).toEqual([
      ['inventory.csv', 'text/csv; charset=utf-8'],
      ['manual.pdf', 'application/pdf'],
      ['screenshot.png', 'image/png'],
    ]);
    for (const [name, bytes] of [
      ['screenshot.png', PNG],
      ['manual.pdf', PDF],
      ['inventory.csv', csv],
    ] as const) {
      const a = res.body.find((x: { filename: string }) => x.filename === name);
      expect(a).toMatchObject({ size_bytes: bytes.length, sha256: sha(bytes) });
      const { res: d, bytes: got } = await download(a.id);
      expect(d.status).toBe(200);
      expect(got.equals(bytes)).toBe(true);
      expect(d.headers.get('content-type')).toBe(a.content_type);
      expect(d.headers.get('content-length')).toBe(String(bytes.length));
      expect(d.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
      expect(d.headers.get('x-content-type-options')).toBe('nosniff');
      expect(d.headers.get('etag')).toBe(`"${sha(bytes)}"`);
    }
    // stored under generated names only
    expect((await filesOf(t.id)).sort()).toEqual(res.body.map((a: { id: string }) => a.id).sort());
    const list = await call(h, 'GET', `/api/v1/tickets/${t.id}/attachments`, { token: admin });
    expect(list.body).toHaveLength(3);

    // audited per file and announced once, through the workflow
    const audit = await AuditLog.query(h.db).where({ ticketId: t.id, action: 'file_uploaded' });
    expect(audit).toHaveLength(3);
    const events = await Event.query(h.db).where({ ticketId: t.id, type: 'ticket.attachment_added' });
    expect(events).toHaveLength(1);
    expect((events[0]!.payload.data.attachments as unknown[]).length).toBe(3);
  });

  it('judges the type from the bytes: a disguised executable is refused and nothing is kept', async () => {
    const t = await newTicket();
    for (const [filename, content] of [
      ['invoice.pdf', EXE],
      ['photo.png', Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01'), Buffer.alloc(100)])],
    ] as const) {
      const res = await upload(t.id, [
        { filename: 'fine.txt', content: 'fine' },
        { filename, content, type: 'application/pdf' },
      ]);
      expect(res.status).toBe(415);
      expect(res.body.error.message).toContain(filename);
    }
    expect(await filesOf(t.id)).toEqual([]);
    expect(await Attachment.query(h.db).where({ ticketId: t.id })).toEqual([]);
    // not multipart at all
    expect((await call(h, 'POST', `/api/v1/tickets/${t.id}/attachments`, { token: admin, body: { file: 'x' } })).status).toBe(415);
  });

  it('takes a file of exactly the limit and refuses one byte more (413, partial file removed, nothing recorded); refuses empty files', async () => {
    const t = await newTicket();
    const exact = Buffer.alloc(LIMIT, 'a');
    const ok = await upload(t.id, [{ filename: 'exact.log', content: exact }]);
    expect(ok.status).toBe(201);
    expect(ok.body[0]).toMatchObject({ size_bytes: LIMIT, sha256: sha(exact) });
    const over = await upload(t.id, [
      { filename: 'small.txt', content: 'ok' },
      { filename: 'over.log', content: Buffer.alloc(LIMIT + 1, 'a') },
    ]);
    expect(over.status).toBe(413);
    expect(over.body.error.message).toContain('over.log');
    expect(await filesOf(t.id)).toEqual([ok.body[0].id]);
    const empty = await upload(t.id, [{ filename: 'empty.txt', content: '' }]);
    expect(empty.status).toBe(422);
    expect(await Attachment.query(h.db).where({ ticketId: t.id })).toHaveLength(1);
    expect(await filesOf(t.id)).toEqual([ok.body[0].id]);
  });

  it('keeps hostile file names as harmless display names only', async () => {
    const t = await newTicket();
    // names the client controls completely (percent-encoded, so NUL and CRLF really arrive)
    const cases: [string, string][] = [
      ['../../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\system.ini', 'system.ini'],
      ['evil\u0000.txt', 'evil.txt'],
      ['a\r\nSet-Cookie: x=1.txt', 'aSet-Cookie: x=1.txt'],
      ['résumé 猫 ✓.txt', 'résumé 猫 ✓.txt'],
      ['\u202Egnp.exe', 'gnp.exe'],
      [`${'x'.repeat(300)}.txt`, `${'x'.repeat(196)}.txt`],
      ['...', 'file'],
    ];
    for (const [raw, shown] of cases) {
      const res = await upload(t.id, [{ encodedFilename: encodeURIComponent(raw), content: 'hello' }]);
      expect(res.status, raw).toBe(201);
      expect(res.body[0].filename).toBe(shown);
      const { res: d } = await download(res.body[0].id);
      const disposition = d.headers.get('content-disposition')!;
      expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]*"/);
      expect(disposition).not.toMatch(/[\r\n]/);
      if (/[^\x20-\x7e]/.test(shown)) expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent(shown).replace(/'/g, '%27')}`);
    }
    // a raw NUL or CRLF inside the part header is a malformed body: a clear 400, nothing stored
    expect((await upload(t.id, [{ filename: 'evil\u0000.txt', content: 'hello' }])).status).toBe(400);
    // nothing but generated names on disk
    for (const f of await filesOf(t.id)) expect(f).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('links to a note of the ticket, and refuses a note of another ticket (files removed)', async () => {
    const t = await newTicket();
    const note = await call(h, 'POST', `/api/v1/tickets/${t.id}/notes`, { token: admin, body: { content: 'see attached' } });
    const res = await upload(t.id, [
      { name: 'note_id', content: note.body.id },
      { filename: 'log.txt', content: 'trace' },
    ]);
    expect(res.status).toBe(201);
    expect(res.body[0].note_id).toBe(note.body.id);
    const other = await newTicket();
    const bad = await upload(other.id, [
      { name: 'note_id', content: note.body.id },
      { filename: 'log.txt', content: 'trace' },
    ]);
    expect(bad.status).toBe(422);
    expect(await filesOf(other.id)).toEqual([]);
  });

  it('leaves nothing behind when the client disconnects mid-upload', async () => {
    const t = await newTicket();
    const { body, contentType } = multipart([{ filename: 'big.log', content: Buffer.alloc(900 * 1024, 'b') }]);
    await new Promise<void>((resolve) => {
      const req = http.request(`${h.baseUrl}/api/v1/tickets/${t.id}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': contentType, 'content-length': String(body.length) },
      });
      req.on('error', () => resolve());
      req.write(body.subarray(0, 400 * 1024));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    await eventually(async () => (await filesOf(t.id)).length === 0, 10_000);
    expect(await Attachment.query(h.db).where({ ticketId: t.id })).toEqual([]);
  });

  it('handles concurrent uploads to one ticket: each recorded once, in its own version', async () => {
    const t = await newTicket();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => upload(t.id, [{ filename: `part-${i}.txt`, content: `content ${i}` }])),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(await Attachment.query(h.db).where({ ticketId: t.id })).toHaveLength(6);
    const versions = (await AuditLog.query(h.db).where({ ticketId: t.id, action: 'file_uploaded' })).map((a) => a.ticketVersion);
    expect(new Set(versions).size).toBe(6);
    expect((await filesOf(t.id)).length).toBe(6);
  });
});

describe('permissions and deletes', () => {
  it('follows the ticket: outsiders get 404s, read-only keys 403, only uploader/manager/admin delete', async () => {
    const agentA = await createUser(h.db, { role: 'agent' });
    const agentB = await createUser(h.db, { role: 'agent' });
    const group = await createGroup(h.db, [agentA, agentB]);
    const tokenA = await login(h, agentA.username);
    const tokenB = await login(h, agentB.username);
    const outsider = (await signedIn(h, 'agent')).token;
    const t = await newTicket(tokenA, { assigned_group_id: group.id });
    const up = await upload(t.id, [{ filename: 'a.txt', content: 'from A' }], { token: tokenA });
    expect(up.status).toBe(201);
    const id = up.body[0].id;

    expect((await upload(t.id, [{ filename: 'x.txt', content: 'x' }], { token: outsider })).status).toBe(404);
    expect((await call(h, 'GET', `/api/v1/tickets/${t.id}/attachments`, { token: outsider })).status).toBe(404);
    expect((await download(id, outsider)).res.status).toBe(404);
    expect((await call(h, 'DELETE', `/api/v1/attachments/${id}`, { token: outsider })).status).toBe(404);
    const reader = (await createApiKey(h.db, agentA, ['tickets:read'])).plain;
    expect((await upload(t.id, [{ filename: 'x.txt', content: 'x' }], { apiKey: reader })).status).toBe(403);
    expect((await download(id, tokenB)).res.status).toBe(200);
    expect((await call(h, 'DELETE', `/api/v1/attachments/${id}`, { token: tokenB })).status).toBe(403);

    expect((await call(h, 'DELETE', `/api/v1/attachments/${id}`, { token: tokenA })).status).toBe(204);
    expect(await filesOf(t.id)).toEqual([]);
    expect(await Attachment.query(h.db).findById(id)).toBeUndefined();
    expect((await download(id)).res.status).toBe(404);
    const deleted = await AuditLog.query(h.db).where({ ticketId: t.id, action: 'file_deleted' });
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.fieldChanged).toBe(`attachment:${id}`);
    expect((await call(h, 'DELETE', `/api/v1/attachments/${id}`, { token: admin })).status).toBe(404);
    expect((await call(h, 'GET', '/api/v1/attachments/not-a-uuid/download', { token: admin })).status).toBe(422);
  });

  it('sweeps files no row names once they are old enough, and never a recorded file', async () => {
    const t = await newTicket();
    const kept = await upload(t.id, [{ filename: 'kept.txt', content: 'kept' }]);
    const folder = path.join(dir, t.id);
    const orphan = path.join(folder, '00000000-0000-4000-8000-000000000001');
    const incoming = path.join(folder, '.incoming-00000000-0000-4000-8000-000000000002');
    const fresh = path.join(folder, '00000000-0000-4000-8000-000000000003');
    await mkdir(folder, { recursive: true });
    for (const f of [orphan, incoming, fresh]) await writeFile(f, 'x');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const f of [orphan, incoming, path.join(folder, kept.body[0].id)]) await utimes(f, old, old);
    expect(await sweepOrphanUploads(h.db, dir)).toBeGreaterThanOrEqual(2);
    expect((await filesOf(t.id)).sort()).toEqual([kept.body[0].id, path.basename(fresh)].sort());
  });

  it('a sweep with no upload directory yet removes nothing; one that cannot read it fails (for the caller to log)', async () => {
    expect(await sweepOrphanUploads(h.db, path.join(dir, 'never-created'))).toBe(0);
    const notADirectory = path.join(dir, 'a-file');
    await writeFile(notADirectory, 'x');
    await expect(sweepOrphanUploads(h.db, notADirectory)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

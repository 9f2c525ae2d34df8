/**
 * An integrator's code: a client generated from /api/v1/openapi.json (openapi-typescript types,
 * openapi-fetch calls). tests/api/openapi-client.test.ts generates `generated/openapi.d.ts`,
 * compiles this file against it with strict settings, then runs it against the real app.
 * Nothing here is hand-typed: if the document changes a name or a shape this uses, tsc fails.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './generated/openapi.js';

type ApiError = components['schemas']['Error'];

export interface Observed {
  loginStatus: number;
  created: { status: number; number: string; etag: string | null; location: string | null };
  listed: { total: number; numbers: string[] };
  errors: Record<string, { status: number; code: string; requestId: string }>;
}

export async function exerciseClient(
  baseUrl: string,
  admin: { username: string; password: string },
  readOnlyKey: string,
): Promise<Observed> {
  // Comma lists are `style: form, explode: false` in the document: say so to openapi-fetch.
  const client = createClient<paths>({ baseUrl, querySerializer: { array: { style: 'form', explode: false } } });
  const errors: Observed['errors'] = {};
  const note = (name: string, status: number, error: ApiError | undefined) => {
    if (!error) throw new Error(`${name}: expected an error envelope, got status ${status}`);
    errors[name] = { status, code: error.error.code, requestId: error.request_id };
  };

  const wrong = await client.POST('/api/v1/auth/login', { body: { username: admin.username, password: 'wrong password' } });
  note('login_wrong_password', wrong.response.status, wrong.error);

  const login = await client.POST('/api/v1/auth/login', { body: admin });
  if (!login.data) throw new Error(`login failed: ${login.response.status}`);
  const auth = { headers: { authorization: `Bearer ${login.data.access_token}` } };

  const anonymous = await client.GET('/api/v1/tickets', {});
  note('list_anonymous', anonymous.response.status, anonymous.error);

  const create = await client.POST('/api/v1/tickets', {
    ...auth,
    body: { title: 'Generated client', priority: 'critical', tags: ['sdk'] },
  });
  if (!create.data || create.response.status !== 201 || !('ticket_number' in create.data))
    throw new Error(`create failed: ${create.response.status}`);
  const ticket = create.data;

  const invalid = await client.POST('/api/v1/tickets', { ...auth, body: { title: '' } });
  note('create_invalid', invalid.response.status, invalid.error);

  const list = await client.GET('/api/v1/tickets', {
    ...auth,
    params: { query: { status: ['open', 'under_investigation'], priority: ['critical'], sort_by: 'created_at', page_size: 100 } },
  });
  if (!list.data) throw new Error(`list failed: ${list.response.status}`);

  const badFilter = await client.GET('/api/v1/tickets', { ...auth, params: { query: { page_size: 1000 } } });
  note('list_bad_page_size', badFilter.response.status, badFilter.error);

  const missing = await client.GET('/api/v1/tickets/{id}', { ...auth, params: { path: { id: 'ASM-999999' } } });
  note('get_missing', missing.response.status, missing.error);

  const stale = await client.PATCH('/api/v1/tickets/{id}', {
    ...auth,
    params: { path: { id: ticket.id }, header: { 'if-match': `"${ticket.version + 41}"` } },
    body: { title: 'stale write' },
  });
  note('patch_stale', stale.response.status, stale.error);

  const resolved = await client.PATCH('/api/v1/tickets/{id}', {
    ...auth,
    params: { path: { id: ticket.id } },
    body: { status: 'resolved' },
  });
  if (resolved.response.status !== 200) throw new Error(`resolve failed: ${resolved.response.status}`);
  const transition = await client.PATCH('/api/v1/tickets/{id}', {
    ...auth,
    params: { path: { id: ticket.id } },
    body: { status: 'paused' },
  });
  note('patch_invalid_transition', transition.response.status, transition.error);

  const forbidden = await client.POST('/api/v1/tickets', {
    headers: { 'x-api-key': readOnlyKey },
    body: { title: 'with a read-only key' },
  });
  note('create_with_read_only_key', forbidden.response.status, forbidden.error);

  const wrongType = await client.POST('/api/v1/tickets', {
    ...auth,
    body: { title: 'as text' },
    bodySerializer: (body) => JSON.stringify(body),
    headers: { ...auth.headers, 'content-type': 'text/plain' },
  });
  note('create_wrong_media_type', wrongType.response.status, wrongType.error);

  return {
    loginStatus: login.response.status,
    created: {
      status: create.response.status,
      number: ticket.ticket_number,
      etag: create.response.headers.get('etag'),
      location: create.response.headers.get('location'),
    },
    listed: { total: list.data.total, numbers: list.data.items.map((t) => t.ticket_number) },
    errors,
  };
}

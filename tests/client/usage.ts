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
  /** two pages of one ticket each, the second reached by `next_cursor` */
  paged: { first: string; second: string; totalIsEstimate: boolean };
  /** a change sent with the ETag the read returned (If-Match) */
  conditional: { status: number; etag: string | null };
  /** each error met: its status, code and request id, and the operation that answered it */
  errors: Record<string, { status: number; code: string; requestId: string; method: string; path: string }>;
}

export async function exerciseClient(
  baseUrl: string,
  admin: { username: string; password: string },
  readOnlyKey: string,
): Promise<Observed> {
  // Comma lists are `style: form, explode: false` in the document: say so to openapi-fetch.
  const client = createClient<paths>({ baseUrl, querySerializer: { array: { style: 'form', explode: false } } });
  const errors: Observed['errors'] = {};
  const note = (name: string, method: string, path: keyof paths, status: number, error: ApiError | undefined) => {
    if (!error) throw new Error(`${name}: expected an error envelope, got status ${status}`);
    errors[name] = { status, code: error.error.code, requestId: error.request_id, method, path };
  };

  const wrong = await client.POST('/api/v1/auth/login', { body: { username: admin.username, password: 'wrong password' } });
  note('login_wrong_password', 'post', '/api/v1/auth/login', wrong.response.status, wrong.error);

  const login = await client.POST('/api/v1/auth/login', { body: admin });
  if (!login.data) throw new Error(`login failed: ${login.response.status}`);
  const auth = { headers: { authorization: `Bearer ${login.data.access_token}` } };

  const anonymous = await client.GET('/api/v1/tickets', {});
  note('list_anonymous', 'get', '/api/v1/tickets', anonymous.response.status, anonymous.error);

  const create = await client.POST('/api/v1/tickets', {
    ...auth,
    body: { title: 'Generated client', priority: 'critical', tags: ['sdk'] },
  });
  if (!create.data || create.response.status !== 201 || !('ticket_number' in create.data))
    throw new Error(`create failed: ${create.response.status}`);
  const ticket = create.data;

  const invalid = await client.POST('/api/v1/tickets', { ...auth, body: { title: '' } });
  note('create_invalid', 'post', '/api/v1/tickets', invalid.response.status, invalid.error);

  const list = await client.GET('/api/v1/tickets', {
    ...auth,
    params: { query: { status: ['open', 'under_investigation'], priority: ['critical'], sort_by: 'created_at', page_size: 100 } },
  });
  if (!list.data) throw new Error(`list failed: ${list.response.status}`);

  const badFilter = await client.GET('/api/v1/tickets', { ...auth, params: { query: { page_size: 1000 } } });
  note('list_bad_page_size', 'get', '/api/v1/tickets', badFilter.response.status, badFilter.error);

  const missing = await client.GET('/api/v1/tickets/{id}', { ...auth, params: { path: { id: 'ASM-999999' } } });
  note('get_missing', 'get', '/api/v1/tickets/{id}', missing.response.status, missing.error);

  const stale = await client.PATCH('/api/v1/tickets/{id}', {
    ...auth,
    params: { path: { id: ticket.id }, header: { 'if-match': `"${ticket.version + 41}"` } },
    body: { title: 'stale write' },
  });
  note('patch_stale', 'patch', '/api/v1/tickets/{id}', stale.response.status, stale.error);

  // the If-Match flow: read, then change with the ETag the read returned
  const read = await client.GET('/api/v1/tickets/{id}', { ...auth, params: { path: { id: ticket.id } } });
  const etag = read.response.headers.get('etag');
  if (!read.data || !etag) throw new Error(`read failed: ${read.response.status}`);
  const conditional = await client.PATCH('/api/v1/tickets/{id}', {
    ...auth,
    params: { path: { id: ticket.id }, header: { 'if-match': etag } },
    body: { description: 'changed with If-Match' },
  });

  // keyset pages: the second page is where the first one's `next_cursor` says
  const second = await client.POST('/api/v1/tickets', { ...auth, body: { title: 'Generated client, page two' } });
  if (second.response.status !== 201) throw new Error(`second create failed: ${second.response.status}`);
  const mine = { page_size: 1, sort_by: 'created_at' as const, sort_order: 'desc' as const, search: 'Generated client' };
  const page1 = await client.GET('/api/v1/tickets', { ...auth, params: { query: mine } });
  const cursor = page1.data?.next_cursor;
  if (!page1.data?.items[0] || !cursor) throw new Error(`first page failed: ${page1.response.status}`);
  const page2 = await client.GET('/api/v1/tickets', { ...auth, params: { query: { ...mine, cursor } } });
  if (!page2.data?.items[0]) throw new Error(`second page failed: ${page2.response.status}`);

  const malformed = await client.POST('/api/v1/tickets', {
    ...auth,
    body: { title: 'cut short' },
    bodySerializer: () => '{"title":',
  });
  note('create_malformed_json', 'post', '/api/v1/tickets', malformed.response.status, malformed.error);

  const tooLarge = await client.POST('/api/v1/tickets', { ...auth, body: { title: 'big', description: 'x'.repeat(1_100_000) } });
  note('create_too_large', 'post', '/api/v1/tickets', tooLarge.response.status, tooLarge.error);

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
  note('patch_invalid_transition', 'patch', '/api/v1/tickets/{id}', transition.response.status, transition.error);

  const forbidden = await client.POST('/api/v1/tickets', {
    headers: { 'x-api-key': readOnlyKey },
    body: { title: 'with a read-only key' },
  });
  note('create_with_read_only_key', 'post', '/api/v1/tickets', forbidden.response.status, forbidden.error);

  const wrongType = await client.POST('/api/v1/tickets', {
    ...auth,
    body: { title: 'as text' },
    bodySerializer: (body) => JSON.stringify(body),
    headers: { ...auth.headers, 'content-type': 'text/plain' },
  });
  note('create_wrong_media_type', 'post', '/api/v1/tickets', wrongType.response.status, wrongType.error);

  return {
    loginStatus: login.response.status,
    created: {
      status: create.response.status,
      number: ticket.ticket_number,
      etag: create.response.headers.get('etag'),
      location: create.response.headers.get('location'),
    },
    listed: { total: list.data.total, numbers: list.data.items.map((t) => t.ticket_number) },
    paged: { first: page1.data.items[0].id, second: page2.data.items[0].id, totalIsEstimate: page2.data.total_is_estimate },
    conditional: { status: conditional.response.status, etag: conditional.response.headers.get('etag') },
    errors,
  };
}

/** Past the rate limit: the 429 envelope and the headers the document promises with it. */
export async function exerciseRateLimit(
  baseUrl: string,
  token: string,
): Promise<{ statuses: number[]; retryAfter: string | null; remaining: string | null; error: ApiError | undefined }> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
  const statuses: number[] = [];
  for (;;) {
    const me = await client.GET('/api/v1/auth/me');
    statuses.push(me.response.status);
    if (me.response.status === 429 || statuses.length > 20)
      return {
        statuses,
        retryAfter: me.response.headers.get('retry-after'),
        remaining: me.response.headers.get('ratelimit-remaining'),
        error: me.error,
      };
  }
}

import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { AppError, translateDbError } from '../../src/errors/index.js';
import { canReadTickets, canViewTicket, canWriteTickets } from '../../src/policies/tickets.js';

const principal = (role: Principal['role'], scopes: Principal['scopes'] = null): Principal =>
  ({ user: { id: 'me' }, role, actorType: scopes ? 'api_key' : 'user', apiKeyId: scopes ? 'k' : null, scopes, key: 'x' }) as Principal;

const ticket = (over: Partial<{ assignedGroupId: string | null; assignedUserId: string | null; createdById: string | null }> = {}) => ({
  assignedGroupId: 'g-other',
  assignedUserId: null,
  createdById: 'someone',
  ...over,
});

describe('ticket visibility', () => {
  it('admins and managers see every ticket', () => {
    expect(canViewTicket(principal('admin'), ticket(), [])).toBe(true);
    expect(canViewTicket(principal('manager'), ticket(), [])).toBe(true);
  });

  it('agents see tickets of their groups, assigned to them, or created by them — nothing else', () => {
    const agent = principal('agent');
    expect(canViewTicket(agent, ticket(), ['g-mine'])).toBe(false);
    expect(canViewTicket(agent, ticket({ assignedGroupId: null }), ['g-mine'])).toBe(false);
    expect(canViewTicket(agent, ticket({ assignedGroupId: 'g-mine' }), ['g-mine'])).toBe(true);
    expect(canViewTicket(agent, ticket({ assignedUserId: 'me' }), [])).toBe(true);
    expect(canViewTicket(agent, ticket({ createdById: 'me' }), [])).toBe(true);
  });

  it('a key with only tickets:read sees but never writes', () => {
    expect(canWriteTickets(principal('admin', ['tickets:read']))).toBe(false);
    expect(canReadTickets(principal('admin', ['tickets:read']))).toBe(true);
    expect(canViewTicket(principal('agent', ['tickets:read']), ticket({ createdById: 'me' }), [])).toBe(true);
  });
});

describe('translateDbError', () => {
  it('maps SQLSTATEs to client errors and leaves the rest alone', () => {
    expect((translateDbError({ code: '23505' }) as AppError).status).toBe(409);
    expect((translateDbError({ nativeError: { code: '23505' } }) as AppError).status).toBe(409); // as Objection wraps it
    expect((translateDbError({ code: '23503' }) as AppError).status).toBe(422);
    expect((translateDbError({ code: '23514' }) as AppError).status).toBe(422);
    expect((translateDbError({ code: '22P02' }) as AppError).status).toBe(400);
    const other = new Error('boom');
    expect(translateDbError(other)).toBe(other);
  });
});

describe('translateOutage', () => {
  it('maps database and Temporal outages to 503, searching the cause chain', async () => {
    const { translateOutage } = await import('../../src/errors/index.js');
    const db = translateOutage(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) as AppError;
    expect([db.status, db.code, db.headers['Retry-After']]).toEqual([503, 'database_unavailable', '5']);
    expect((translateOutage(Object.assign(new Error('terminating connection'), { code: '57P01' })) as AppError).code).toBe(
      'database_unavailable',
    );
    const grpc = new Error('14 UNAVAILABLE: No connection established');
    const wrapped = Object.assign(new Error('Service error'), { cause: Object.assign(grpc, { code: 14 }) });
    expect((translateOutage(wrapped) as AppError).code).toBe('temporal_unavailable');
    const plain = new Error('bug');
    expect(translateOutage(plain)).toBe(plain);
  });
});

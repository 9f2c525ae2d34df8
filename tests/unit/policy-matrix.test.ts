import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { can, grantableScopes, ROLE_MATRIX, type Action } from '../../src/policies/index.js';
import type { ApiKeyScope, Role } from '../../src/models/index.js';

const principal = (role: Role, scopes: ApiKeyScope[] | null = null): Principal =>
  ({ user: { id: 'u' }, role, actorType: scopes ? 'api_key' : 'user', apiKeyId: scopes ? 'k' : null, scopes, key: 'x' }) as Principal;

// SPEC §8 written out by hand, independently of ROLE_MATRIX: [admin, manager, agent].
const EXPECTED: Record<Action, [boolean, boolean, boolean]> = {
  'users.read': [true, true, true],
  'users.create': [true, false, false],
  'users.update': [true, false, false],
  'groups.read': [true, true, true],
  'groups.create': [true, true, false],
  'groups.update': [true, true, false],
  'groups.members.manage': [true, true, false],
  'apiKeys.manageOwn': [true, true, true],
  'apiKeys.manageAll': [true, false, false],
  'tickets.read': [true, true, true],
  'tickets.write': [true, true, true],
  'tickets.readAll': [true, true, false],
  'tickets.delete': [true, true, false],
  'dashboards.read': [true, true, false],
  'webhooks.manage': [true, true, false],
  'slaPolicies.read': [true, true, true],
  'slaPolicies.manage': [true, false, false],
};

describe('the role matrix (every role × every action)', () => {
  it('covers every action', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(ROLE_MATRIX).sort());
  });

  for (const [action, [admin, manager, agent]] of Object.entries(EXPECTED) as [Action, [boolean, boolean, boolean]][]) {
    it(action, () => {
      expect([can(principal('admin'), action), can(principal('manager'), action), can(principal('agent'), action)]).toEqual([
        admin,
        manager,
        agent,
      ]);
    });
  }
});

describe("API key scopes narrow the owner's role", () => {
  const actions = Object.keys(EXPECTED) as Action[];

  it('no scopes (or admin) means the full role', () => {
    for (const a of actions) {
      expect(can(principal('manager', []), a)).toBe(can(principal('manager'), a));
      expect(can(principal('admin', ['admin']), a)).toBe(can(principal('admin'), a));
    }
  });

  it('tickets:read allows only reads', () => {
    const reader = principal('admin', ['tickets:read']);
    expect(actions.filter((a) => can(reader, a)).sort()).toEqual([
      'dashboards.read',
      'groups.read',
      'slaPolicies.read',
      'tickets.read',
      'tickets.readAll',
      'users.read',
    ]);
  });

  it('tickets:write adds ticket writes, never administration', () => {
    const writer = principal('admin', ['tickets:write']);
    expect(actions.filter((a) => can(writer, a)).sort()).toEqual([
      'dashboards.read',
      'groups.read',
      'slaPolicies.read',
      'tickets.delete',
      'tickets.read',
      'tickets.readAll',
      'tickets.write',
      'users.read',
    ]);
  });

  it('a scope never lifts a role: an agent key with admin scope is still an agent', () => {
    expect(can(principal('agent', ['admin']), 'users.create')).toBe(false);
    expect(can(principal('agent', ['admin']), 'groups.create')).toBe(false);
  });

  it('only admins may grant the admin scope', () => {
    expect(grantableScopes('admin')).toContain('admin');
    expect(grantableScopes('manager')).not.toContain('admin');
    expect(grantableScopes('agent')).not.toContain('admin');
  });
});

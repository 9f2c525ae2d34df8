/**
 * The role matrix of SPEC §8 as pure functions, used by every route and (later) every MCP tool.
 *   admin   — everything
 *   manager — all tickets, groups (and their members), dashboards, webhooks; their own API keys
 *   agent   — tickets of their groups / assigned to / created by them; their own API keys;
 *             never user or group administration
 * Everyone signed in may read users and groups (to pick assignees). An API key acts with its
 * owner's role, narrowed by its scopes.
 */
import type { Principal } from '../auth/principal.js';
import { forbidden } from '../errors/index.js';
import type { Role } from '../models/index.js';

export type Action =
  | 'users.read'
  | 'users.create'
  | 'users.update'
  | 'groups.read'
  | 'groups.create'
  | 'groups.update'
  | 'groups.members.manage'
  | 'apiKeys.manageOwn'
  | 'apiKeys.manageAll'
  | 'tickets.read'
  | 'tickets.write'
  | 'tickets.readAll'
  | 'tickets.delete'
  | 'dashboards.read'
  | 'webhooks.manage'
  | 'slaPolicies.read'
  | 'slaPolicies.manage';

/** Which roles may perform each action. */
export const ROLE_MATRIX: Readonly<Record<Action, readonly Role[]>> = {
  'users.read': ['admin', 'manager', 'agent'],
  'users.create': ['admin'],
  'users.update': ['admin'],
  'groups.read': ['admin', 'manager', 'agent'],
  'groups.create': ['admin', 'manager'],
  'groups.update': ['admin', 'manager'],
  'groups.members.manage': ['admin', 'manager'],
  'apiKeys.manageOwn': ['admin', 'manager', 'agent'],
  'apiKeys.manageAll': ['admin'],
  'tickets.read': ['admin', 'manager', 'agent'],
  'tickets.write': ['admin', 'manager', 'agent'],
  'tickets.readAll': ['admin', 'manager'],
  'tickets.delete': ['admin', 'manager'],
  'dashboards.read': ['admin', 'manager'],
  'webhooks.manage': ['admin', 'manager'],
  'slaPolicies.read': ['admin', 'manager', 'agent'],
  'slaPolicies.manage': ['admin'],
};

/** The scope an API key needs for each action (keys without scopes act with the full role). */
const SCOPE_NEEDED: Readonly<Record<Action, 'tickets:read' | 'tickets:write' | 'admin'>> = {
  'users.read': 'tickets:read',
  'groups.read': 'tickets:read',
  'tickets.read': 'tickets:read',
  'tickets.readAll': 'tickets:read',
  'dashboards.read': 'tickets:read',
  'tickets.write': 'tickets:write',
  'tickets.delete': 'tickets:write',
  'users.create': 'admin',
  'users.update': 'admin',
  'groups.create': 'admin',
  'groups.update': 'admin',
  'groups.members.manage': 'admin',
  'apiKeys.manageOwn': 'admin',
  'apiKeys.manageAll': 'admin',
  'webhooks.manage': 'admin',
  'slaPolicies.read': 'tickets:read',
  'slaPolicies.manage': 'admin',
};

function scopeAllows(p: Principal, needed: 'tickets:read' | 'tickets:write' | 'admin'): boolean {
  if (p.scopes === null || p.scopes.length === 0 || p.scopes.includes('admin')) return true;
  if (needed === 'tickets:read') return p.scopes.includes('tickets:read') || p.scopes.includes('tickets:write');
  return p.scopes.includes(needed);
}

/** Whether the principal may perform the action at all. */
export function can(p: Principal, action: Action): boolean {
  return ROLE_MATRIX[action].includes(p.role) && scopeAllows(p, SCOPE_NEEDED[action]);
}

/** Throws 403 unless the principal may perform the action. */
export function authorize(p: Principal, action: Action): void {
  if (!can(p, action))
    throw forbidden(`Your role (${p.role}${p.scopes?.length ? `, key scopes ${p.scopes.join(', ')}` : ''}) may not do this.`);
}

/** Scopes a user of this role may give their keys: only admins may hand out `admin`. */
export function grantableScopes(role: Role): string[] {
  return role === 'admin' ? ['tickets:read', 'tickets:write', 'admin'] : ['tickets:read', 'tickets:write'];
}

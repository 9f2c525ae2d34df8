/**
 * The visibility rule exists twice: `canViewTicket` (one ticket, JS) and `visibleTo` (lists, SQL).
 * Both run here on the same rows, for every kind of reader, and must pick the same tickets.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { visibilityOf } from '../../src/store/tickets.js';
import { createDb, type Db } from '../../src/db/index.js';
import { Ticket, User, type Role } from '../../src/models/index.js';
import { canReadTickets, canViewTicket, visibleTo } from '../../src/policies/tickets.js';

let db: Db;
const tag = randomBytes(4).toString('hex');
const users: Record<string, User> = {};
const groups: Record<string, string> = {};
const ticketIds: string[] = [];

async function user(name: string, role: Role): Promise<User> {
  const [row] = await db('users')
    .insert({ username: `vis_${name}_${tag}`, email: `vis_${name}_${tag}@example.test`, full_name: name, password_hash: 'x', role })
    .returning('id');
  return (await User.query(db).findById(row.id))!;
}

const principal = (u: User, scopes: Principal['scopes'] = null): Principal => ({
  user: u,
  role: u.role,
  actorType: scopes ? 'api_key' : 'user',
  apiKeyId: null,
  scopes,
  key: `test:${u.id}`,
});

beforeAll(async () => {
  db = createDb(inject('databaseUrl'), { min: 0, max: 2 });
  for (const [name, role] of [
    ['admin', 'admin'],
    ['manager', 'manager'],
    ['member', 'agent'], // in group A
    ['both', 'agent'], // in groups A and B
    ['loner', 'agent'], // in no group
    ['other', 'agent'],
  ] as const)
    users[name] = await user(name, role);
  for (const name of ['A', 'B', 'C']) {
    const [row] = await db('groups')
      .insert({ name: `vis_${name}_${tag}` })
      .returning('id');
    groups[name] = row.id;
  }
  await db('group_memberships').insert([
    { group_id: groups.A, user_id: users.member!.id },
    { group_id: groups.A, user_id: users.both!.id },
    { group_id: groups.B, user_id: users.both!.id },
  ]);
  // every combination of assigned group, assigned user and creator the rule distinguishes
  const groupChoices = [null, groups.A!, groups.B!, groups.C!];
  const userChoices = [null, users.member!.id, users.loner!.id, users.other!.id];
  for (const assignedGroupId of groupChoices)
    for (const assignedUserId of userChoices)
      for (const createdById of [null, users.loner!.id, users.other!.id]) {
        const id = randomUUID();
        ticketIds.push(id);
        await db('tickets').insert({
          id,
          title: 'visibility fixture',
          priority: 'low',
          assigned_group_id: assignedGroupId,
          assigned_user_id: assignedUserId,
          created_by_id: createdById,
        });
      }
});

afterAll(async () => {
  await db('tickets').whereIn('id', ticketIds).delete();
  await db('groups').whereIn('id', Object.values(groups)).delete();
  await db('users')
    .whereIn(
      'id',
      Object.values(users).map((u) => u.id),
    )
    .delete();
  await db.destroy();
});

async function bothWays(p: Principal): Promise<{ js: string[]; sql: string[]; sqlWithIds: string[] }> {
  const rows = await Ticket.query(db).whereIn('id', ticketIds);
  const memberOf = (await db('group_memberships').where({ user_id: p.user.id }).pluck('group_id')) as string[];
  const js = rows.filter((t) => canViewTicket(p, t, memberOf)).map((t) => t.id);
  // the scope lists use (groups as a subquery) and the one their size estimate is planned with (group ids)
  const scoped = async (withGroupIds: boolean) => {
    const visibility = await visibilityOf(db, p, withGroupIds);
    const query = Ticket.query(db).whereIn('id', ticketIds);
    if (visibility) query.where(visibleTo(visibility));
    return canReadTickets(p) ? (await query).map((t) => t.id).sort() : [];
  };
  return { js: js.sort(), sql: await scoped(false), sqlWithIds: await scoped(true) };
}

describe('ticket visibility', () => {
  it('the JS rule and the SQL scope pick the same tickets for every reader', async () => {
    const seen: Record<string, number> = {};
    for (const [name, p] of [
      ['admin', principal(users.admin!)],
      ['manager', principal(users.manager!)],
      ['member', principal(users.member!)],
      ['both', principal(users.both!)],
      ['loner', principal(users.loner!)],
      ['other', principal(users.other!)],
      ['member key (tickets:read)', principal(users.member!, ['tickets:read'])],
    ] as const) {
      const { js, sql, sqlWithIds } = await bothWays(p);
      expect(sql, name).toEqual(js);
      expect(sqlWithIds, name).toEqual(js);
      seen[name] = js.length;
    }
    // the fixtures exercise the rule: all, none of someone else's, and the partial cases in between
    const all = ticketIds.length;
    expect(seen.admin).toBe(all);
    expect(seen.manager).toBe(all);
    for (const name of ['member', 'both', 'loner', 'other']) {
      expect(seen[name], name).toBeGreaterThan(0);
      expect(seen[name], name).toBeLessThan(all);
    }
    expect(seen.both).toBeGreaterThan(seen.member!);
    expect(seen['member key (tickets:read)']).toBe(seen.member);
  });
});

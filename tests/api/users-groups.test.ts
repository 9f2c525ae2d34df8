import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Group, User } from '../../src/models/index.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';
import { createApiKey, createGroup, createUser, login, PASSWORD, signedIn, unique } from '../helpers/factories.js';

let h: Harness;
let admin: { token: string; user: User };
let manager: { token: string; user: User };
let agent: { token: string; user: User };
beforeAll(async () => {
  h = await startHarness({ worker: false });
  [admin, manager, agent] = await Promise.all([signedIn(h, 'admin'), signedIn(h, 'manager'), signedIn(h, 'agent')]);
});
afterAll(() => h.stop());

const PAYLOADS = [`Robert'); DROP TABLE users;--`, `<script>alert("x")</script>`, `" OR "1"="1`, `ünïcødé ✓ 猫`];

describe('users', () => {
  it('admins create users; the hash never comes back', async () => {
    const username = unique('new');
    const res = await call(h, 'POST', '/api/v1/users', {
      token: admin.token,
      body: { username, email: `${username}@example.test`, full_name: 'New Person', password: 'long enough pw', role: 'manager' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ username, role: 'manager', is_active: true, full_name: 'New Person' });
    expect(JSON.stringify(res.body)).not.toMatch(/hash|argon/);
    expect(res.headers.get('location')).toBe(`/api/v1/users/${res.body.id}`);
    expect(await login(h, username, 'long enough pw')).toEqual(expect.any(String));
  });

  it('managers and agents may not create users (403); anonymous callers get 401', async () => {
    const body = { username: unique('x'), email: `${unique('x')}@example.test`, full_name: 'X', password: 'long enough pw' };
    expect((await call(h, 'POST', '/api/v1/users', { token: manager.token, body })).status).toBe(403);
    expect((await call(h, 'POST', '/api/v1/users', { token: agent.token, body })).status).toBe(403);
    expect((await call(h, 'POST', '/api/v1/users', { body })).status).toBe(401);
  });

  it('validates each field and refuses duplicates (case-insensitive) with 409', async () => {
    const bad = await call(h, 'POST', '/api/v1/users', {
      token: admin.token,
      body: { username: 'a b', email: 'not-an-email', full_name: '', password: 'short', role: 'root' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'email',
      'full_name',
      'password',
      'role',
      'username',
    ]);
    const taken = await call(h, 'POST', '/api/v1/users', {
      token: admin.token,
      body: {
        username: agent.user.username.toUpperCase(),
        email: `${unique('e')}@example.test`,
        full_name: 'Dup',
        password: 'long enough pw',
      },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('username_taken');
    const emailTaken = await call(h, 'POST', '/api/v1/users', {
      token: admin.token,
      body: { username: unique('u'), email: agent.user.email.toUpperCase(), full_name: 'Dup', password: 'long enough pw' },
    });
    expect(emailTaken.body.error.code).toBe('email_taken');
  });

  it('stores hostile text as data', async () => {
    for (const payload of PAYLOADS) {
      const username = unique('p');
      const res = await call(h, 'POST', '/api/v1/users', {
        token: admin.token,
        body: { username, email: `${username}@example.test`, full_name: payload, password: 'long enough pw' },
      });
      expect(res.status).toBe(201);
      expect((await call(h, 'GET', `/api/v1/users/${res.body.id}`, { token: agent.token })).body.full_name).toBe(payload);
    }
    expect(await User.query(h.db).resultSize()).toBeGreaterThan(0); // the table is still there
  });

  it('lists with the pagination envelope, filters and a literal search', async () => {
    const group = await createGroup(h.db, [agent.user]);
    const page = await call(h, 'GET', '/api/v1/users?page=1&page_size=2', { token: agent.token });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ page: 1, page_size: 2, total: expect.any(Number), pages: Math.ceil(page.body.total / 2) });
    expect(page.body.items).toHaveLength(2);
    const members = await call(h, 'GET', `/api/v1/users?group_id=${group.id}`, { token: agent.token });
    expect(members.body.items.map((u: { id: string }) => u.id)).toEqual([agent.user.id]);
    const managers = await call(h, 'GET', '/api/v1/users?role=manager&is_active=true', { token: agent.token });
    expect(managers.body.items.every((u: { role: string }) => u.role === 'manager')).toBe(true);
    const search = await call(h, 'GET', `/api/v1/users?search=${encodeURIComponent(agent.user.username)}`, { token: agent.token });
    expect(search.body.items.map((u: { id: string }) => u.id)).toContain(agent.user.id);
    const wildcard = await call(h, 'GET', `/api/v1/users?search=${encodeURIComponent('%')}`, { token: agent.token });
    expect(wildcard.body.total).toBe(0); // % is a character here, not a wildcard
    for (const q of ['page_size=101', 'page=0', 'role=root', 'is_active=maybe', 'group_id=x']) {
      expect((await call(h, 'GET', `/api/v1/users?${q}`, { token: agent.token })).status, q).toBe(422);
    }
  });

  it('gets one user, 404 for an unknown id, 422 for a malformed one', async () => {
    expect((await call(h, 'GET', `/api/v1/users/${agent.user.id}`, { token: agent.token })).body.username).toBe(agent.user.username);
    expect((await call(h, 'GET', '/api/v1/users/00000000-0000-4000-8000-000000000000', { token: agent.token })).status).toBe(404);
    expect((await call(h, 'GET', '/api/v1/users/nope', { token: agent.token })).status).toBe(422);
  });

  it('admins update e-mail, name, role and password; others get 403', async () => {
    const target = await createUser(h.db);
    expect((await call(h, 'PATCH', `/api/v1/users/${target.id}`, { token: manager.token, body: { full_name: 'No' } })).status).toBe(403);
    expect((await call(h, 'PATCH', `/api/v1/users/${target.id}`, { token: admin.token, body: {} })).status).toBe(422);
    const res = await call(h, 'PATCH', `/api/v1/users/${target.id}`, {
      token: admin.token,
      body: { full_name: 'Renamed', role: 'manager', password: 'a brand new pass' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ full_name: 'Renamed', role: 'manager' });
    expect((await call(h, 'POST', '/api/v1/auth/login', { body: { username: target.username, password: PASSWORD } })).status).toBe(401);
    expect(await login(h, target.username, 'a brand new pass')).toEqual(expect.any(String));
  });

  it("deactivation stops the user's tokens and keys at once", async () => {
    const target = await createUser(h.db);
    const token = await login(h, target.username);
    const { plain } = await createApiKey(h.db, target);
    expect((await call(h, 'GET', '/api/v1/auth/me', { apiKey: plain })).status).toBe(200);
    expect((await call(h, 'PATCH', `/api/v1/users/${target.id}`, { token: admin.token, body: { is_active: false } })).body.is_active).toBe(
      false,
    );
    expect((await call(h, 'GET', '/api/v1/auth/me', { token })).status).toBe(401);
    expect((await call(h, 'GET', '/api/v1/auth/me', { apiKey: plain })).status).toBe(401);
    expect((await call(h, 'POST', '/api/v1/auth/login', { body: { username: target.username, password: PASSWORD } })).status).toBe(401);
  });

  it('never loses the last active admin', async () => {
    // A database of its own: here this admin really is the only one, and no other test file's
    // admins are touched.
    const scratch = await startHarness({ worker: false, scratch: 'users' });
    try {
      const only = await signedIn(scratch, 'admin');
      for (const body of [{ is_active: false }, { role: 'agent' }]) {
        const res = await call(scratch, 'PATCH', `/api/v1/users/${only.user.id}`, { token: only.token, body });
        expect(res.status).toBe(409);
        expect(res.body.error.code).toBe('last_admin');
      }
      const second = await createUser(scratch.db, { role: 'admin' });
      expect((await call(scratch, 'PATCH', `/api/v1/users/${second.id}`, { token: only.token, body: { role: 'agent' } })).status).toBe(200);
    } finally {
      await scratch.stop();
    }
  });
});

describe('groups', () => {
  it('admins and managers create groups; agents may not', async () => {
    for (const who of [admin, manager]) {
      const res = await call(h, 'POST', '/api/v1/groups', { token: who.token, body: { name: unique('Team'), description: 'Does things' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ description: 'Does things' });
    }
    expect((await call(h, 'POST', '/api/v1/groups', { token: agent.token, body: { name: unique('Team') } })).status).toBe(403);
    expect((await call(h, 'POST', '/api/v1/groups', { body: { name: unique('Team') } })).status).toBe(401);
    expect((await call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: '' } })).status).toBe(422);
  });

  it('refuses a duplicate name (case-insensitive) on create and rename', async () => {
    const name = unique('Dup');
    const first = await call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name } });
    expect((await call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: name.toUpperCase() } })).status).toBe(409);
    const other = await call(h, 'POST', '/api/v1/groups', { token: admin.token, body: { name: unique('Other') } });
    const rename = await call(h, 'PATCH', `/api/v1/groups/${other.body.id}`, { token: admin.token, body: { name } });
    expect(rename.status).toBe(409);
    expect(
      (await call(h, 'PATCH', `/api/v1/groups/${first.body.id}`, { token: manager.token, body: { description: 'new' } })).body.description,
    ).toBe('new');
    expect((await call(h, 'PATCH', `/api/v1/groups/${first.body.id}`, { token: agent.token, body: { description: 'no' } })).status).toBe(
      403,
    );
  });

  it('manages members and leads: add (dup 409), show with counts, remove', async () => {
    const group = (await call(h, 'POST', '/api/v1/groups', { token: manager.token, body: { name: unique('Ops') } })).body;
    const lead = await createUser(h.db);
    const member = await createUser(h.db);
    const added = await call(h, 'POST', `/api/v1/groups/${group.id}/members`, {
      token: manager.token,
      body: { user_id: lead.id, is_lead: true },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ is_lead: true, user: { id: lead.id } });
    expect(
      (await call(h, 'POST', `/api/v1/groups/${group.id}/members`, { token: manager.token, body: { user_id: member.id } })).status,
    ).toBe(201);
    const dup = await call(h, 'POST', `/api/v1/groups/${group.id}/members`, { token: manager.token, body: { user_id: member.id } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('already_member');
    expect(
      (
        await call(h, 'POST', `/api/v1/groups/${group.id}/members`, {
          token: manager.token,
          body: { user_id: '00000000-0000-4000-8000-000000000000' },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await call(h, 'POST', `/api/v1/groups/00000000-0000-4000-8000-000000000000/members`, {
          token: manager.token,
          body: { user_id: member.id },
        })
      ).status,
    ).toBe(404);
    expect(
      (await call(h, 'POST', `/api/v1/groups/${group.id}/members`, { token: agent.token, body: { user_id: agent.user.id } })).status,
    ).toBe(403);

    const detail = await call(h, 'GET', `/api/v1/groups/${group.id}`, { token: agent.token });
    expect(detail.body.member_count).toBe(2);
    expect(detail.body.members.map((m: { user: { id: string }; is_lead: boolean }) => [m.user.id, m.is_lead])).toEqual([
      [lead.id, true],
      [member.id, false],
    ]);
    const list = await call(h, 'GET', '/api/v1/groups?page_size=100', { token: agent.token });
    expect(list.body.items.find((g: { id: string }) => g.id === group.id).member_count).toBe(2);

    expect((await call(h, 'DELETE', `/api/v1/groups/${group.id}/members/${member.id}`, { token: agent.token })).status).toBe(403);
    expect((await call(h, 'DELETE', `/api/v1/groups/${group.id}/members/${member.id}`, { token: manager.token })).status).toBe(204);
    expect((await call(h, 'DELETE', `/api/v1/groups/${group.id}/members/${member.id}`, { token: manager.token })).status).toBe(404);
    expect((await call(h, 'GET', `/api/v1/groups/${group.id}`, { token: agent.token })).body.member_count).toBe(1);
  });

  it('stores hostile names and descriptions as data', async () => {
    for (const payload of PAYLOADS) {
      const res = await call(h, 'POST', '/api/v1/groups', {
        token: admin.token,
        body: { name: `${payload} ${unique('g')}`, description: payload },
      });
      expect(res.status).toBe(201);
      expect((await Group.query(h.db).findById(res.body.id))!.description).toBe(payload);
    }
  });

  it('an API key with tickets:read may read groups but not change them', async () => {
    const { plain } = await createApiKey(h.db, admin.user, ['tickets:read']);
    expect((await call(h, 'GET', '/api/v1/groups', { apiKey: plain })).status).toBe(200);
    expect((await call(h, 'POST', '/api/v1/groups', { apiKey: plain, body: { name: unique('Nope') } })).status).toBe(403);
  });
});

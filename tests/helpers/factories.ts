/** Test data written straight to the database (users, groups, keys) with unique names. */
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../src/auth/api-keys.js';
import { hashPassword } from '../../src/auth/passwords.js';
import type { Db } from '../../src/db/index.js';
import { ApiKey, Group, GroupMembership, SlaPolicy, User, type ApiKeyScope, type Role } from '../../src/models/index.js';
import { call } from './harness.js';

export const PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

export const unique = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

export async function createUser(db: Db, attrs: { role?: Role; isActive?: boolean; username?: string } = {}): Promise<User> {
  passwordHash ??= hashPassword(PASSWORD);
  const username = attrs.username ?? unique('user');
  return User.query(db).insert({
    username,
    email: `${username}@example.test`,
    fullName: `Test ${username}`,
    role: attrs.role ?? 'agent',
    isActive: attrs.isActive ?? true,
    passwordHash: await passwordHash,
  } as Partial<User>);
}

export async function createGroup(db: Db, members: User[] = []): Promise<Group> {
  const group = await Group.query(db).insert({ name: unique('group'), description: '' } as Partial<Group>);
  for (const m of members) await GroupMembership.query(db).insert({ groupId: group.id, userId: m.id } as Partial<GroupMembership>);
  return group;
}

export async function createApiKey(db: Db, user: User, scopes: ApiKeyScope[] = []): Promise<{ plain: string; key: ApiKey }> {
  const generated = generateApiKey();
  const key = await ApiKey.query(db).insert({
    userId: user.id,
    name: unique('key'),
    keyPrefix: generated.prefix,
    keyHash: generated.hash,
    scopes,
  } as Partial<ApiKey>);
  return { plain: generated.plain, key };
}

/** SLA policies for every priority (tests share one database: insert if missing). */
export async function ensureSlaPolicies(db: Db): Promise<void> {
  for (const [priority, assign, resolve] of [
    ['critical', 900, 14_400],
    ['high', 1_800, 28_800],
    ['medium', 7_200, 86_400],
    ['low', 28_800, 259_200],
  ] as const) {
    await SlaPolicy.query(db)
      .insert({ priority, assignTargetSeconds: assign, resolveTargetSeconds: resolve, atRiskPercent: 80 } as Partial<SlaPolicy>)
      .onConflict('priority')
      .ignore();
  }
}

export async function login(h: { baseUrl: string }, username: string, password = PASSWORD): Promise<string> {
  const res = await call(h, 'POST', '/api/v1/auth/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** A user of the given role with a fresh access token. */
export async function signedIn(h: { baseUrl: string; db: Db }, role: Role = 'admin'): Promise<{ user: User; token: string }> {
  const user = await createUser(h.db, { role });
  return { user, token: await login(h, user.username) };
}

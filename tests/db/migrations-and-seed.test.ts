import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { issueRefreshToken } from '../../src/auth/refresh-tokens.js';
import { DEMO_USER_PASSWORD, MCP_AGENT_KEY_NAME, seedBanner, seedDemoData } from '../../src/commands/seed.js';
import { loadConfig } from '../../src/config/env.js';
import { createDb, migrateLatest, type Db } from '../../src/db/index.js';
import { createDatabaseIfMissing } from '../../src/dev/embedded-postgres.js';
import { ApiKey, Group, GroupMembership, RefreshToken, SlaPolicy, User } from '../../src/models/index.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { scratchDatabase, type ScratchDatabase } from '../helpers/scratch.js';

// A scratch database of its own: these tests migrate down and seed from empty.
const name = `servicemeow_scratch_${randomBytes(4).toString('hex')}`;
let db: Db;
beforeAll(async () => {
  const admin = inject('adminDatabaseUrl');
  await createDatabaseIfMissing(admin, name);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  db = createDb(url.toString(), { min: 0, max: 2 });
});
afterAll(async () => {
  await db.destroy();
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  await client.end();
});

const tables = async () =>
  (await db('pg_tables').where({ schemaname: 'public' }).pluck('tablename')).filter((t: string) => !t.startsWith('knex_')).sort();

describe('migrations', () => {
  it('apply, roll back completely, and apply again', async () => {
    expect(await migrateLatest(db)).toEqual(MIGRATIONS.map(([n]) => n));
    const created = await tables();
    expect(created).toEqual(
      [
        'api_keys',
        'attachments',
        'audit_log',
        'business_calendars',
        'events',
        'group_memberships',
        'groups',
        'idempotency_keys',
        'oauth_authorization_codes',
        'oauth_clients',
        'oauth_grants',
        'oauth_tokens',
        'refresh_tokens',
        'sla_policies',
        'sla_repairs',
        'sla_rules',
        'ticket_notes',
        'tickets',
        'users',
        'webhook_attempt_leases',
        'webhook_deliveries',
        'webhook_delivery_attempts',
        'webhooks',
      ].sort(),
    );
    await db.migrate.rollback(undefined, true);
    expect(await tables()).toEqual([]);
    expect((await db.raw("SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'next_ticket_number'")).rows[0].n).toBe(0);
    await migrateLatest(db);
    expect(await tables()).toEqual(created);
  });

  it('number tickets ASM-0001 onwards, growing past four digits without truncation', async () => {
    const next = async () => (await db.raw('SELECT next_ticket_number() AS n')).rows[0].n as string;
    expect(await next()).toBe('ASM-0001');
    await db.raw("SELECT setval('ticket_number_seq', 9999)");
    expect(await next()).toBe('ASM-10000');
  });
});

describe('seed', () => {
  const config = loadConfig({ DEFAULT_ADMIN_PASSWORD: 'admin' });

  it('creates the admin, four groups with leads, eight users, the SLA policies and one MCP key', async () => {
    const result = await seedDemoData(db, config, { ifEmpty: true });
    expect(result.skipped).toBe(false);
    expect(result.apiKey).toMatch(/^smk_/);
    expect(seedBanner(result, config)).toContain(`MCP API Key: ${result.apiKey}`);
    expect(await User.query(db).resultSize()).toBe(9);
    expect((await User.query(db).findOne({ username: 'admin' }))!.role).toBe('admin');
    expect(await Group.query(db).resultSize()).toBe(4);
    expect(await GroupMembership.query(db).where({ isLead: true }).resultSize()).toBe(4);
    const policies = await SlaPolicy.query(db).orderBy('assign_target_seconds');
    expect(policies.map((p) => [p.priority, p.assignTargetSeconds, p.resolveTargetSeconds])).toEqual([
      ['critical', 900, 14_400],
      ['high', 1_800, 28_800],
      ['medium', 7_200, 86_400],
      ['low', 28_800, 259_200],
    ]);
    expect(await ApiKey.query(db).where({ name: MCP_AGENT_KEY_NAME }).resultSize()).toBe(1);
  });

  it('is idempotent: a second run creates nothing and prints no key', async () => {
    expect(await seedDemoData(db, config, { ifEmpty: true })).toMatchObject({ skipped: true, apiKey: null });
    const again = await seedDemoData(db, config, { ifEmpty: false });
    expect(again).toMatchObject({ skipped: false, apiKey: null });
    expect(seedBanner(again, config)).not.toContain('MCP API Key');
    expect(await User.query(db).resultSize()).toBe(9);
    expect(await GroupMembership.query(db).resultSize()).toBe(8);
    expect(await ApiKey.query(db).resultSize()).toBe(1);
  });
});

describe('seed with NODE_ENV=production', () => {
  const adminPassword = randomBytes(12).toString('base64url');
  const production = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DEFAULT_ADMIN_USERNAME: 'root-admin',
    DEFAULT_ADMIN_PASSWORD: adminPassword,
  });
  // Passwords anyone can look up: the demo one, the example admin one, and the username itself.
  const guessable = (u: User) => [DEMO_USER_PASSWORD, 'admin', u.username, ''];
  const scratches: ScratchDatabase[] = [];
  const dbs: Db[] = [];
  const fresh = async () => {
    const scratch = await scratchDatabase('seedprod');
    scratches.push(scratch);
    const d = createDb(scratch.url, { min: 0, max: 2 });
    dbs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dbs) await d.destroy();
    for (const s of scratches) await s.drop();
  });

  it('creates exactly the admin (from DEFAULT_ADMIN_*), the SLA policies and the MCP key; no guessable password', async () => {
    const prod = await fresh();
    const result = await seedDemoData(prod, production, { ifEmpty: true });
    const users = await User.query(prod);
    expect(users.map((u) => [u.username, u.role, u.isActive])).toEqual([['root-admin', 'admin', true]]);
    expect(result).toMatchObject({ skipped: false, adminUsername: 'root-admin', demoUsers: false, retiredDemoUsers: [] });
    expect(result.apiKey).toMatch(/^smk_/);
    expect(await verifyPassword(users[0]!.passwordHash, adminPassword)).toBe(true);
    for (const u of users) for (const p of guessable(u)) expect(await verifyPassword(u.passwordHash, p)).toBe(false);
    expect(await Group.query(prod).resultSize()).toBe(0);
    expect(await SlaPolicy.query(prod).resultSize()).toBe(4);
    expect(await ApiKey.query(prod).where({ name: MCP_AGENT_KEY_NAME }).resultSize()).toBe(1);
    const banner = seedBanner(result, production);
    expect(banner).toContain(`MCP API Key: ${result.apiKey}`);
    expect(banner).not.toContain(DEMO_USER_PASSWORD);
    // a later run without --if-empty still adds no demo account
    await seedDemoData(prod, production, { ifEmpty: false });
    expect(await User.query(prod).resultSize()).toBe(1);
  });

  it('deactivates demo accounts an earlier seed left with the demo password, even when --if-empty skips', async () => {
    const prod = await fresh();
    await seedDemoData(prod, config(), { ifEmpty: true }); // what the old seed did in production
    const kept = (await User.query(prod).findOne({ username: 'akim' }))!;
    await User.query(prod).patchAndFetchById(kept.id, { passwordHash: await hashPassword('a real password of hers') } as Partial<User>);
    const jchen = (await User.query(prod).findOne({ username: 'jchen' }))!;
    await issueRefreshToken(prod, jchen.id, 7, { userAgent: 'test', ip: '127.0.0.1' });

    const result = await seedDemoData(prod, production, { ifEmpty: true });
    const active = await User.query(prod).where({ isActive: true }).orderBy('username');
    expect(active.map((u) => u.username)).toEqual(['admin', 'akim']);
    expect(result.skipped).toBe(true);
    expect([...result.retiredDemoUsers].sort()).toEqual(['dthompson', 'jchen', 'lgarcia', 'mwilliams', 'nwright', 'spatel', 'troberts']);
    expect(seedBanner(result, production)).toContain('Deactivated demo accounts');
    for (const u of active) expect(await verifyPassword(u.passwordHash, DEMO_USER_PASSWORD)).toBe(false);
    expect(await RefreshToken.query(prod).where({ userId: jchen.id }).whereNull('revokedAt').resultSize()).toBe(0);
    // nothing left to retire on the next run
    expect((await seedDemoData(prod, production, { ifEmpty: true })).retiredDemoUsers).toEqual([]);
  });
});

function config() {
  return loadConfig({ DEFAULT_ADMIN_PASSWORD: 'admin' });
}

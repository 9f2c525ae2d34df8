/**
 * Seed data. Everywhere: the admin (DEFAULT_ADMIN_*), the SLA policies from the env defaults, and an
 * API key for an MCP agent. Outside production also seed 000's demo organisation: four groups and
 * eight users whose password is `password123` — never in production, where a guessable manager
 * login is a way in. Idempotent: only what is missing is created, and the API key is shown only
 * when it is created.
 */
import type { Knex } from 'knex';
import { generateApiKey } from '../auth/api-keys.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import { revokeAllForUser } from '../auth/refresh-tokens.js';
import type { Config } from '../config/env.js';
import type { TicketPriority } from '../../workflows/vocabulary.js';
import { ApiKey, Group, GroupMembership, SlaPolicy, User } from '../models/index.js';

const GROUPS = [
  { name: 'IT Operations', description: 'General IT support and operations' },
  { name: 'Cybersecurity', description: 'Security monitoring, incident response, and compliance' },
  { name: 'Server Infrastructure', description: 'Server provisioning, maintenance, and monitoring' },
  { name: 'Desktop Support', description: 'End-user device support and software deployment' },
];

const USERS = [
  { username: 'jchen', fullName: 'Jessica Chen', role: 'manager', group: 'IT Operations', isLead: true },
  { username: 'mwilliams', fullName: 'Marcus Williams', role: 'agent', group: 'IT Operations', isLead: false },
  { username: 'spatel', fullName: 'Sanjay Patel', role: 'manager', group: 'Cybersecurity', isLead: true },
  { username: 'akim', fullName: 'Alice Kim', role: 'agent', group: 'Cybersecurity', isLead: false },
  { username: 'troberts', fullName: 'Tyler Roberts', role: 'manager', group: 'Server Infrastructure', isLead: true },
  { username: 'lgarcia', fullName: 'Luna Garcia', role: 'agent', group: 'Server Infrastructure', isLead: false },
  { username: 'dthompson', fullName: 'Derek Thompson', role: 'manager', group: 'Desktop Support', isLead: true },
  { username: 'nwright', fullName: 'Nina Wright', role: 'agent', group: 'Desktop Support', isLead: false },
] as const;

export const DEMO_USER_PASSWORD = 'password123';
export const MCP_AGENT_KEY_NAME = 'Claude MCP Agent';

export interface SeedResult {
  skipped: boolean;
  adminUsername: string;
  /** the plain MCP agent key, only when this run created it */
  apiKey: string | null;
  /** whether the demo groups and users are part of this seed (never in production) */
  demoUsers: boolean;
  /** production only: demo accounts an earlier seed left with the demo password, deactivated now */
  retiredDemoUsers: string[];
}

/**
 * Seed what is missing; with `ifEmpty`, do nothing when any user exists. With NODE_ENV=production
 * only the admin, the SLA policies and the MCP key; and demo accounts that a seed before that rule
 * created and that still have the demo password are deactivated (also when `ifEmpty` skips).
 */
export async function seedDemoData(db: Knex, config: Config, opts: { ifEmpty: boolean }): Promise<SeedResult> {
  const adminUsername = config.defaultAdmin.username;
  const demoUsers = config.nodeEnv !== 'production';
  const retiredDemoUsers = demoUsers ? [] : await retireDemoAccounts(db);
  if (opts.ifEmpty && (await User.query(db).resultSize()) > 0) {
    return { skipped: true, adminUsername, apiKey: null, demoUsers, retiredDemoUsers };
  }

  // Hash outside the transaction: argon2 is deliberately slow.
  const adminHash = await hashPassword(config.defaultAdmin.password);
  const demoHash = demoUsers ? await hashPassword(DEMO_USER_PASSWORD) : null;

  return db.transaction(async (trx) => {
    const admin = await ensureUser(trx, {
      username: adminUsername,
      email: config.defaultAdmin.email,
      fullName: 'System Administrator',
      role: 'admin',
      passwordHash: adminHash,
    });
    if (demoHash) await ensureDemoOrganisation(trx, demoHash);
    await ensureSlaPolicies(trx, config);
    let apiKey: string | null = null;
    if (!(await ApiKey.query(trx).findOne({ userId: admin.id, name: MCP_AGENT_KEY_NAME }))) {
      const key = generateApiKey();
      await ApiKey.query(trx).insert({
        userId: admin.id,
        name: MCP_AGENT_KEY_NAME,
        keyPrefix: key.prefix,
        keyHash: key.hash,
        scopes: [],
      } as Partial<ApiKey>);
      apiKey = key.plain;
    }
    return { skipped: false, adminUsername, apiKey, demoUsers, retiredDemoUsers };
  });
}

/** Seed 000's groups and users (development and test only). */
async function ensureDemoOrganisation(trx: Knex.Transaction, demoHash: string): Promise<void> {
  const groups = new Map<string, Group>();
  for (const g of GROUPS) {
    const existing = await Group.query(trx).whereRaw('lower(name) = lower(?)', [g.name]).first();
    groups.set(g.name, existing ?? (await Group.query(trx).insert(g)));
  }
  for (const u of USERS) {
    const user = await ensureUser(trx, {
      username: u.username,
      email: `${u.username}@servicemeow.local`,
      fullName: u.fullName,
      role: u.role,
      passwordHash: demoHash,
    });
    await GroupMembership.query(trx)
      .insert({ groupId: groups.get(u.group)!.id, userId: user.id, isLead: u.isLead } as Partial<GroupMembership>)
      .onConflict(['group_id', 'user_id'])
      .ignore();
  }
}

/**
 * Production databases seeded before demo accounts were kept out of production carry eight logins
 * with a published password. Deactivate (and sign out) each demo account whose password is still
 * that one; accounts whose password was changed are someone's real login and stay as they are.
 */
async function retireDemoAccounts(db: Knex): Promise<string[]> {
  const candidates = await User.query(db)
    .whereRaw('lower(username) = ANY(?)', [USERS.map((u) => u.username)])
    .where({ isActive: true });
  const retired: string[] = [];
  for (const user of candidates) {
    if (!(await verifyPassword(user.passwordHash, DEMO_USER_PASSWORD))) continue;
    await db.transaction(async (trx) => {
      await User.query(trx)
        .patch({ isActive: false } as Partial<User>)
        .where({ id: user.id, isActive: true });
      await revokeAllForUser(trx, user.id);
    });
    retired.push(user.username);
  }
  return retired;
}

/** The SLA policy of each priority, from the env defaults, where it is missing. */
export async function ensureSlaPolicies(db: Knex, config: Config): Promise<void> {
  for (const [priority, targets] of Object.entries(config.slaDefaults) as [TicketPriority, Config['slaDefaults'][TicketPriority]][]) {
    await SlaPolicy.query(db)
      .insert({
        priority,
        assignTargetSeconds: targets.assignSeconds,
        resolveTargetSeconds: targets.resolveSeconds,
        atRiskPercent: 80,
      } as Partial<SlaPolicy>)
      .onConflict('priority')
      .ignore();
  }
}

async function ensureUser(
  trx: Knex.Transaction,
  u: { username: string; email: string; fullName: string; role: 'admin' | 'manager' | 'agent'; passwordHash: string },
): Promise<User> {
  const existing = await User.query(trx).whereRaw('lower(username) = lower(?)', [u.username]).first();
  return existing ?? (await User.query(trx).insert({ ...u, isActive: true } as Partial<User>));
}

/** The lines an operator needs once: the admin login and the MCP key. */
export function seedBanner(result: SeedResult, config: Config): string {
  const retired = result.retiredDemoUsers.length
    ? [`Deactivated demo accounts that still had the demo password (not for production): ${result.retiredDemoUsers.join(', ')}`]
    : [];
  if (result.skipped) return ['Database already seeded; nothing to do.', ...retired].join('\n');
  const lines = ['='.repeat(60), 'Seed data ready.', `Admin user: ${result.adminUsername}`];
  if (config.defaultAdmin.password === 'admin') lines.push('Admin password: admin (the default; change it)');
  if (result.demoUsers)
    lines.push(`Demo users (not in production): ${USERS.map((u) => u.username).join(', ')}, password ${DEMO_USER_PASSWORD}`);
  lines.push(...retired);
  if (result.apiKey) lines.push(`MCP API Key: ${result.apiKey}`);
  lines.push('='.repeat(60));
  return lines.join('\n');
}

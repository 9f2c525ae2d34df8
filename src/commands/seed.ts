/**
 * Demo data of seed 000: the admin, four groups, eight users, the SLA policies from the env
 * defaults, and an API key for an MCP agent. Idempotent: only what is missing is created, and the
 * API key is shown only when it is created.
 */
import type { Knex } from 'knex';
import { generateApiKey } from '../auth/api-keys.js';
import { hashPassword } from '../auth/passwords.js';
import type { Config, Priority } from '../config/env.js';
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
}

/** Seed what is missing; with `ifEmpty`, do nothing when any user exists. */
export async function seedDemoData(db: Knex, config: Config, opts: { ifEmpty: boolean }): Promise<SeedResult> {
  const adminUsername = config.defaultAdmin.username;
  if (opts.ifEmpty && (await User.query(db).resultSize()) > 0) return { skipped: true, adminUsername, apiKey: null };

  // Hash outside the transaction: argon2 is deliberately slow.
  const adminHash = await hashPassword(config.defaultAdmin.password);
  const demoHash = await hashPassword(DEMO_USER_PASSWORD);

  return db.transaction(async (trx) => {
    const admin = await ensureUser(trx, {
      username: adminUsername,
      email: config.defaultAdmin.email,
      fullName: 'System Administrator',
      role: 'admin',
      passwordHash: adminHash,
    });
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
    await ensureSlaPolicies(trx, config);
    let apiKey: string | null = null;
    if (!(await ApiKey.query(trx).findOne({ userId: admin.id, name: MCP_AGENT_KEY_NAME }))) {
      const key = generateApiKey();
      await ApiKey.query(trx).insert({ userId: admin.id, name: MCP_AGENT_KEY_NAME, keyPrefix: key.prefix, keyHash: key.hash, scopes: [] } as Partial<ApiKey>);
      apiKey = key.plain;
    }
    return { skipped: false, adminUsername, apiKey };
  });
}

/** The SLA policy of each priority, from the env defaults, where it is missing. */
export async function ensureSlaPolicies(db: Knex, config: Config): Promise<void> {
  for (const [priority, targets] of Object.entries(config.slaDefaults) as [Priority, Config['slaDefaults'][Priority]][]) {
    await SlaPolicy.query(db)
      .insert({ priority, assignTargetSeconds: targets.assignSeconds, resolveTargetSeconds: targets.resolveSeconds, atRiskPercent: 80 } as Partial<SlaPolicy>)
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
  if (result.skipped) return 'Database already seeded; nothing to do.';
  const lines = ['='.repeat(60), 'Seed data ready.', `Admin user: ${result.adminUsername}`];
  if (config.defaultAdmin.password === 'admin') lines.push('Admin password: admin (the default; change it)');
  if (result.apiKey) lines.push(`MCP API Key: ${result.apiKey}`);
  lines.push('='.repeat(60));
  return lines.join('\n');
}

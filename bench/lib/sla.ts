import type { Config, Priority } from '../../src/config/env.js';
import type { Db } from '../../src/db/index.js';
import { SlaPolicy } from '../../src/models/index.js';

/** The SLA policies a seeded database has, from the config's defaults. */
export async function ensureSlaPoliciesFromConfig(db: Db, config: Config): Promise<void> {
  for (const [priority, t] of Object.entries(config.slaDefaults) as [Priority, Config['slaDefaults'][Priority]][]) {
    await SlaPolicy.query(db)
      .insert({ priority, assignTargetSeconds: t.assignSeconds, resolveTargetSeconds: t.resolveSeconds, atRiskPercent: 80 } as Partial<SlaPolicy>)
      .onConflict('priority')
      .ignore();
  }
}

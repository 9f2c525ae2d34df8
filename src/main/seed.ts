/** `npm run seed` (fill in whatever is missing) and `npm run seed -- --if-empty`. */
import { ConfigError } from '../config/env.js';
import { seedBanner, seedDemoData } from '../commands/seed.js';
import { createDb } from '../db/index.js';
import { loadConfigOrExit, runMain } from './lifecycle.js';

runMain(async () => {
  const config = loadConfigOrExit();
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL: required']);
  const db = createDb(config.databaseUrl);
  try {
    const result = await seedDemoData(db, config, { ifEmpty: process.argv.includes('--if-empty') });
    console.log(seedBanner(result, config));
  } finally {
    await db.destroy();
  }
});

/** `npm run migrate` (latest) and `npm run migrate -- --down` (roll back the last batch). */
import { ConfigError } from '../config/env.js';
import { createDb, migrateLatest } from '../db/index.js';
import { loadConfigOrExit, runMain } from './lifecycle.js';

runMain(async () => {
  const config = loadConfigOrExit();
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL: required']);
  const db = createDb(config.databaseUrl);
  try {
    if (process.argv.includes('--down')) {
      const [, undone] = (await db.migrate.rollback()) as [number, string[]];
      console.log(undone.length ? `Rolled back: ${undone.join(', ')}` : 'Nothing to roll back.');
    } else {
      const applied = await migrateLatest(db);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date.');
    }
  } finally {
    await db.destroy();
  }
});

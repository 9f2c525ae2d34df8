/** For the knex CLI (`npx knex --knexfile knexfile.ts migrate:status`); the app migrates via `npm run migrate`. */
import { loadConfig, requireConnections } from './src/config/env.js';
import { knexConfig } from './src/db/index.js';

export default knexConfig(requireConnections(loadConfig()).databaseUrl);

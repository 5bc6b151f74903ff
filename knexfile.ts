// Knex's own CLI reads this file: the three environments come from cos-db's resolver.
//   NODE_OPTIONS='--import tsx' npx knex --knexfile knexfile.ts migrate:list --env dev
import { fileURLToPath } from 'node:url';
import { knexConfigs } from './src/db/knexConfigs.js';

const migrationsDir =
  process.env.COS_MIGRATIONS_DIR ?? fileURLToPath(new URL('./migrations', import.meta.url));

export default await knexConfigs({ cwd: process.cwd(), processEnv: process.env, migrationsDir });

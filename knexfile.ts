// Knex's own CLI reads this file: the three environments come from cos-db's resolver.
//   NODE_OPTIONS='--import tsx' npx knex --knexfile knexfile.ts migrate:list --env dev
// COS_MODULE=<module> points it at that module's folder and history instead of the core's.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The built module: the package ships dist/, not src/.
import { knexConfigs } from './dist/src/db/knexConfigs.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const module = process.env.COS_MODULE;
const modulesDir = process.env.COS_MIGRATIONS_DIR ?? join(root, 'migrations');
const migrationsDir = module ? join(modulesDir, module) : join(root, 'migrations');

export default await knexConfigs({
  cwd: process.cwd(),
  processEnv: process.env,
  migrationsDir,
  schemaName: module,
});

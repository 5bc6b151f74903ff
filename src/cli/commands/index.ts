import type { Command } from '../command.js';
import agentRole from './agentRole.js';
import archiveEvent from './archive/event.js';
import archivePrd from './archive/prd.js';
import diffPrd from './diff/prd.js';
import env from './env.js';
import exportRecords from './export.js';
import importBundle from './import.js';
import jsonSchema from './jsonSchema.js';
import keygen from './keygen.js';
import linkAdd from './link/add.js';
import linkList from './link/list.js';
import mcp from './mcp.js';
import migrateMake from './migrate/make.js';
import migrateRollback from './migrate/rollback.js';
import migrateStatus from './migrate/status.js';
import migrateUnlock from './migrate/unlock.js';
import migrateUp from './migrate/up.js';
import ping from './ping.js';
import prove from './prove.js';
import queryEvents from './query/events.js';
import queryPrd from './query/prd.js';
import redact from './redact.js';
import schemaCreate from './schema/create.js';
import schemaDrop from './schema/drop.js';
import schemaList from './schema/list.js';
import seedRun from './seed/run.js';
import serve from './serve.js';
import tokenCreate from './token/create.js';
import tokenList from './token/list.js';
import tokenRevoke from './token/revoke.js';
import trace from './trace.js';
import verify from './verify.js';
import verifyProof from './verifyProof.js';

/** Every command, in the order `--help` lists them; a test checks each file here is listed. */
export const COMMANDS: readonly Command[] = [
  env,
  ping,
  migrateUp,
  migrateStatus,
  migrateRollback,
  migrateMake,
  migrateUnlock,
  schemaCreate,
  schemaList,
  schemaDrop,
  seedRun,
  archivePrd,
  archiveEvent,
  queryEvents,
  queryPrd,
  diffPrd,
  trace,
  exportRecords,
  importBundle,
  linkAdd,
  linkList,
  verify,
  prove,
  verifyProof,
  redact,
  serve,
  mcp,
  tokenCreate,
  tokenList,
  tokenRevoke,
  agentRole,
  keygen,
  jsonSchema,
];

/** What each group of subcommands is for, as `--help` says it. */
export const GROUPS: Readonly<Record<string, string>> = {
  migrate: 'apply, inspect and roll back migrations',
  schema: 'one PostgreSQL schema per module',
  seed: 'development seed data',
  archive: 'archive PRD versions and events into the ledger',
  query: 'query the archive',
  diff: 'compare archived versions',
  link: 'memory links from L4 records to L3 entries',
  token: "the agent endpoint's tokens (cos-db serve, cos-db mcp)",
};

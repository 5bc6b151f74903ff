/**
 * cos-db as a library: the functions the CLI's commands call, each taking a database handle
 * (from withDatabase) and returning data.
 */
export { ENV_NAMES, type EnvName } from './config/envs.js';
export { resolveTarget, resolveTargets, type Target } from './config/resolveTargets.js';
export { withDatabase, type Database } from './db/withDatabase.js';
export { CosError, ExitCode } from './errors.js';
export { migrate } from './migrations/runMigrations.js';
export { migrationStatus } from './migrations/migrationStatus.js';
export { rollback } from './migrations/rollback.js';
export { createModule, dropModule, listModules } from './schemas/modules.js';
export { canonicalJson } from './integrity/canonicalJson.js';
export { appendToChain, lockChain, withLedgerTransaction } from './integrity/ledger.js';
export { appendOnlySql, dropLedgerTable, makeLedgerTable } from './integrity/ledgerTable.js';
export { verifyLedger } from './integrity/verify.js';
export { checkCheckpoint, keygen, makeCheckpoint } from './integrity/checkpoint.js';
// RFC 6962 proofs and C2SP signed notes, checked offline (no database).
export {
  EMPTY_ROOT,
  leafHash,
  nodeHash,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
} from './integrity/merkle.js';
export {
  checkpointText,
  NoteError,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signerKey,
  signNote,
  verifierKey,
  type Checkpoint,
  type OpenedNote,
} from './integrity/signedNote.js';
export { archivePrds } from './prd/archivePrds.js';
export { parsePrd } from './prd/parsePrd.js';
export { diffPrd } from './prd/diffPrd.js';
export { listPrds, prdHistory, prdVersion } from './prd/queryPrds.js';
export { archiveEvents } from './events/archiveEvents.js';
export { eventDetail, queryEvents } from './events/queryEvents.js';
export { trace } from './lineage/trace.js';
export { addLink, listLinks } from './links/memoryLinks.js';
export { exportRecords } from './export/exportRecords.js';
export { exportBundle, importBundle } from './export/bundle.js';

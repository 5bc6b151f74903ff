import { CosError, ExitCode } from '../errors.js';

/**
 * Whether the store was made by cos-db 0.x: its cc.events has content_sha256, which 1.0's
 * baseline does not (1.0 stores digests as bytea and commits to payloads). One catalog query,
 * valid whether or not the tables exist.
 */
export const LEGACY_STORE_SQL = `select exists (
  select 1 from pg_attribute
   where attrelid = to_regclass('cc.events') and attname = 'content_sha256' and not attisdropped
) as legacy`;

/** The one line every command but export gives on a 0.x store (exit 6). */
export function legacyStoreError(): CosError {
  return new CosError(
    ExitCode.drift,
    'this store was made by cos-db 0.x (development data in a format 1.0 does not read)',
    {
      hint: 'start a new store (another database, or move the embedded store aside) and run `cos-db migrate`; `cos-db export` still reads this one, and `cos-db archive event` loads its NDJSON export into the new store',
    },
  );
}

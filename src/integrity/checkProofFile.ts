import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { integrityError, usageError } from '../errors.js';
import { loadPublicKey } from './keyFiles.js';
import {
  ProofError,
  verifyProofText,
  type ConsistencyResult,
  type InclusionResult,
} from './tlogProof.js';

const VERIFIER_KEY = /^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/;

/** A key as given: a verifier key string, a file holding one, or a PEM key file. */
function readKey(given: string | undefined, cwd: string): string | KeyObject {
  if (given === undefined)
    throw usageError('verify-proof needs the public key that signed the checkpoint', {
      hint: 'give --key FILE (PEM) or --key NAME+ID+KEY, or set COS_SIGNING_KEY',
    });
  if (VERIFIER_KEY.test(given)) return given;
  const path = resolve(cwd, given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw usageError(
      `cannot read the key ${given}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { hint: 'give a PEM key file, or the verifier key string NAME+ID+KEY' },
    );
  }
  return VERIFIER_KEY.test(text) ? text : loadPublicKey(path);
}

/**
 * Checks a proof file (or "-", standard input) with no database: what it proves, or exit 4
 * naming what failed (exit 2 for a file that is not a proof, or an unusable key).
 */
export function checkProofFile(
  file: string,
  key: string | undefined,
  cwd: string,
): InclusionResult | ConsistencyResult {
  const verifier = readKey(key, cwd);
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : resolve(cwd, file), 'utf8');
  } catch (error) {
    throw usageError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return verifyProofText(text, verifier);
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    if (error.kind === 'malformed')
      throw usageError(`${file} is not a usable proof: ${error.message}`);
    throw integrityError(`proof FAILED (${error.kind}): ${error.message}`, {
      details: { failed: error.kind },
    });
  }
}

import { defineCommand, value } from '../command.js';
import type { ConsistencyResult, InclusionResult } from '../../integrity/tlogProof.js';

/** What a checked proof proves, in one line. */
export function proofLine(result: InclusionResult | ConsistencyResult): string {
  return result.kind === 'inclusion'
    ? `proof OK: record ${result.seq} of chain ${result.chain} (${result.table}) is leaf ${result.index} of the tree of ${result.size} signed for ${result.origin}${result.opened ? '; its payload matches its commitment' : ''}`
    : `proof OK: ${result.origin} at ${result.to_size} extends itself at ${result.from_size}`;
}

export default defineCommand({
  path: 'verify-proof',
  description:
    'check a proof from cos-db prove with no database: the record, its path, the signed checkpoint; exit 4 naming what fails',
  args: ['<file>'],
  options: {
    key: value(
      '<key>',
      "the signer's public key: a PEM file (public or private), or a verifier key NAME+ID+KEY (else COS_SIGNING_KEY)",
    ),
  },
  async run({ settings, out, options, args: [file] }) {
    const { checkProofFile } = await import('../../integrity/checkProofFile.js');
    const result = checkProofFile(file, options.key ?? settings.signingKeyPath, settings.cwd);
    out.result({ ...result, ok: true }, () => proofLine(result));
  },
});

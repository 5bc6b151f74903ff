import { resolve } from 'node:path';
import { keygen } from '../../integrity/checkpoint.js';
import type { Handler } from '../context.js';

export const handler: Handler = async ({ settings, out, invocation }) => {
  const o = invocation.options as { out?: string; force?: boolean };
  const path = resolve(settings.cwd, o.out ?? 'cos-db-signing.key');
  const written = keygen(path, o.force === true);
  out.result(written, () =>
    [
      `private key: ${written.private_key} (mode 0600: keep it outside the database and out of git)`,
      `public key:  ${written.public_key}`,
      `use it: COS_SIGNING_KEY=${written.private_key} cos-db verify --write-checkpoint checkpoint.json`,
    ].join('\n'),
  );
};

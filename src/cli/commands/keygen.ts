import { resolve } from 'node:path';
import { defineCommand, flag, value } from '../command.js';

export default defineCommand({
  path: 'keygen',
  description: 'write a new Ed25519 key pair for signing checkpoints',
  options: {
    out: value('<file>', 'private key path (public key beside it, .pub)'),
    force: flag('overwrite an existing key'),
  },
  async run({ settings, out, options }) {
    const { keygen } = await import('../../integrity/checkpoint.js');
    const path = resolve(settings.cwd, options.out ?? 'cos-db-signing.key');
    const written = keygen(path, options.force === true);
    out.result(written, () =>
      [
        `private key: ${written.private_key} (mode 0600: keep it outside the database and out of git)`,
        `public key:  ${written.public_key}`,
        `use it: COS_SIGNING_KEY=${written.private_key} cos-db verify --write-checkpoint checkpoint.json`,
      ].join('\n'),
    );
  },
});

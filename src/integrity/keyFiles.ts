import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CosError, usageError } from '../errors.js';

function readKeyFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw usageError(
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      {
        hint: 'make one with `cos-db keygen`, and name it with --key or COS_SIGNING_KEY',
      },
    );
  }
}

export function loadPrivateKey(path: string): KeyObject {
  try {
    const key = createPrivateKey(readKeyFile(path, 'signing key'));
    if (key.asymmetricKeyType !== 'ed25519')
      throw new Error(`it is a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    if (error instanceof CosError) throw error;
    throw usageError(`${path} is not an Ed25519 private key (${(error as Error).message})`, {
      hint: 'make one with `cos-db keygen`',
    });
  }
}

/** A public key from a public or a private key file. */
export function loadPublicKey(path: string): KeyObject {
  const text = readKeyFile(path, 'key');
  try {
    return createPublicKey(text);
  } catch (error) {
    throw usageError(`${path} holds no usable key (${(error as Error).message})`);
  }
}

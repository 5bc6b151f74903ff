import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafHash } from '../../src/integrity/merkle.js';
import {
  checkpointText,
  openNote,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signerKey,
  signNote,
  verifierKey,
  type NoteError,
} from '../../src/integrity/signedNote.js';

// The vectors of golang.org/x/mod/sumdb/note (note_test.go) and sumdb/tlog (note_test.go), at
// golang/mod commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db. Ed25519 is deterministic, so the
// signature must match to the byte.
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const kindOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as NoteError).kind;
  }
};

describe('C2SP signed notes, as Go writes and reads them', () => {
  it("signs Go's test note with Go's test key to the same bytes", () => {
    expect(signNote(TEXT, [parseSignerKey(PETER_SKEY)])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('gives the verifier key of a signer key, and a new key pair round-trips', () => {
    const signer = parseSignerKey(PETER_SKEY);
    expect(verifierKey(signer.name, signer.key)).toBe(PETER_VKEY);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const skey = signerKey('cos-db.local/store', privateKey);
    const vkey = verifierKey('cos-db.local/store', publicKey);
    const note = signNote('hello\n', [parseSignerKey(skey)]);
    expect(openNote(note, [parseVerifierKey(vkey)]).text).toBe('hello\n');
  });

  it('refuses every mangling of a verifier key and a signer key, as Go does', () => {
    expect(kindOf(() => parseVerifierKey(PETER_VKEY))).toBeUndefined();
    for (const key of [PETER_VKEY, PETER_SKEY]) {
      const parse = key === PETER_VKEY ? parseVerifierKey : parseSignerKey;
      for (let i = 0; i <= key.length; i += 1)
        for (let j = i + 1; j <= key.length; j += 1)
          if (i !== 0 || j !== key.length)
            expect(
              kindOf(() => parse(key.slice(i, j))),
              key.slice(i, j),
            ).toBe('bad-key');
      for (let i = 0; i < key.length; i += 1) {
        const bumped =
          key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(
          kindOf(() => parse(bumped)),
          bumped,
        ).toBe('bad-key');
      }
    }
    // Go's own two: a key of the wrong length, an unknown algorithm (each with a matching ID).
    expect(
      kindOf(() =>
        parseVerifierKey(
          'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
        ),
      ),
    ).toBe('bad-key');
    expect(
      kindOf(() =>
        parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      ),
    ).toBe('bad-key');
  });

  it("opens Go's two-signature note: a known key verified, an unknown one set aside", () => {
    const peter = parseVerifierKey(PETER_VKEY);
    const enoch = parseVerifierKey(ENOCH_VKEY);
    const message = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const one = openNote(message, [peter]);
    expect(one.text).toBe(TEXT);
    expect(one.signatures.map((s) => [s.name, s.keyId])).toEqual([['PeterNeumann', 0xc74f20a3]]);
    expect(one.unverified.map((s) => [s.name, s.keyId])).toEqual([['EnochRoot', 0xaf0cfe78]]);
    const both = openNote(message, [peter, enoch]);
    expect(both.signatures.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(both.unverified).toEqual([]);
    expect(kindOf(() => openNote(message, []))).toBe('unverified');
    expect(kindOf(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch]))).toBe('bad-key');
    expect(kindOf(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]))).toBe('malformed');
  });

  it('refuses a changed text, a changed signature, and what is not a note', () => {
    const peter = parseVerifierKey(PETER_VKEY);
    const good = `${TEXT}\n${PETER_SIG}`;
    expect(kindOf(() => openNote(good.replace('answer', 'Answer'), [peter]))).toBe('bad-signature');
    expect(kindOf(() => openNote(good.replace('ZJkuBS9U', 'ZJkuBS9V'), [peter]))).toBe(
      'bad-signature',
    );
    for (const bad of [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.trimEnd()}`,
      `a\tb\n\n${PETER_SIG}`,
    ])
      expect(
        kindOf(() => openNote(bad, [peter])),
        JSON.stringify(bad),
      ).toBe('malformed');
    expect(kindOf(() => signNote('no newline', [parseSignerKey(PETER_SKEY)]))).toBe('malformed');
  });
});

describe('C2SP tlog checkpoints', () => {
  // Go's sumdb/tlog TestFormatTree: the RFC 6962 record hash of "hello world", 123456789012 leaves.
  const golden =
    'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';

  it("formats and parses Go's golden tree head", () => {
    const root = leafHash(Buffer.from('hello world'));
    expect(
      checkpointText({ origin: 'go.sum database tree', size: 123456789012n, root, extensions: [] }),
    ).toBe(golden);
    const parsed = parseCheckpoint(golden);
    expect([parsed.origin, parsed.size, parsed.root.equals(root)]).toEqual([
      'go.sum database tree',
      123456789012n,
      true,
    ]);
    expect(parseCheckpoint(`${golden}ext one\n`).extensions).toEqual(['ext one']);
    expect(parseCheckpoint('o\n18446744073709551617\n' + golden.split('\n')[2] + '\n').size).toBe(
      2n ** 64n + 1n,
    );
  });

  it('refuses a bad size, a root of the wrong length, an empty origin or extension line', () => {
    for (const bad of [
      golden.replace('123456789012', '0xabcdef'),
      golden.replace('123456789012', '0123'),
      golden.replace('HmuwBb0=', 'HmuwBTOOBIG='),
      golden.replace('go.sum database tree', ''),
      `${golden}\n`,
      golden.trimEnd(),
    ])
      expect(
        kindOf(() => parseCheckpoint(bad)),
        JSON.stringify(bad),
      ).toBe('malformed');
  });
});

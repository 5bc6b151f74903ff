/**
 * PGlite decodes every text field with `new TextDecoder('utf-8')`, which silently drops a byte
 * order mark at the start of a value — so a PRD archived with a BOM would come back without it,
 * and its hash would no longer match. While an embedded store is open, TextDecoders keep BOMs
 * (ignoreBOM: true), as node-postgres does; the original is restored when the store closes.
 */
let depth = 0;
let original: typeof TextDecoder | undefined;

export function keepBomWhileOpen(): () => void {
  if (depth === 0) {
    original = globalThis.TextDecoder;
    const Base = original;
    globalThis.TextDecoder = class BomKeepingTextDecoder extends Base {
      constructor(label?: string, options?: ConstructorParameters<typeof TextDecoder>[1]) {
        super(label, { ...options, ignoreBOM: true });
      }
    } as typeof TextDecoder;
  }
  depth += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    depth -= 1;
    if (depth === 0 && original) globalThis.TextDecoder = original;
  };
}

import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { CosError, ExitCode } from '../errors.js';
import { onInterrupt } from '../interrupt.js';
import { prepareOutputFile } from '../outputFile.js';

export type Sink = { write(text: string): Promise<void>; finish(): Promise<void>; abort(): void };

/**
 * Buffered writes: text is gathered into ~64 KB blocks (one write, one possible wait for
 * 'drain', per block rather than per row), with a single error listener for the stream's life.
 */
function writer(stream: NodeJS.WritableStream) {
  let failed: Error | undefined;
  stream.on('error', (error: Error) => {
    failed = error;
  });
  let buffer = '';
  const flush = () =>
    new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      const block = buffer;
      buffer = '';
      if (block === '' || stream.write(block)) resolve();
      else stream.once('drain', () => (failed ? reject(failed) : resolve()));
    });
  return {
    write: async (text: string) => {
      buffer += text;
      if (buffer.length >= 65_536) await flush();
    },
    flush,
  };
}

/**
 * Where an export goes: stdout, or a file written beside its final name and renamed into place
 * only when complete — a failed or interrupted export never leaves a partial file under the
 * final name.
 */
export function openSink(out: string | undefined): Sink {
  if (!out) {
    const stdout = writer(process.stdout);
    return { write: stdout.write, finish: stdout.flush, abort: () => undefined };
  }
  prepareOutputFile(out, { label: '--out' });
  const partial = `${out}.partial-${process.pid}`;
  const stream: WriteStream = createWriteStream(partial, { flags: 'wx' });
  let done = false;
  const abort = () => {
    if (done) return;
    done = true;
    stream.destroy();
    rmSync(partial, { force: true });
  };
  const unregister = onInterrupt(abort);
  const file = writer(stream);
  // A failed write (a full disk, say) is the user's to act on, not a bug.
  const told = (error: unknown) => {
    if (error instanceof CosError) return error;
    return new CosError(ExitCode.output, `cannot write ${out}: ${(error as Error).message}`, {
      hint: 'free space or choose another path; nothing was left under that name',
      cause: error,
    });
  };
  return {
    write: (text) => file.write(text).catch((error: unknown) => Promise.reject(told(error))),
    finish: async () => {
      try {
        await file.flush();
        await new Promise<void>((resolve, reject) =>
          stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
        renameSync(partial, out);
      } catch (error) {
        throw told(error);
      }
      done = true;
      unregister();
    },
    abort: () => {
      unregister();
      abort();
    },
  };
}

import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { onInterrupt } from '../interrupt.js';

export type Sink = { write(text: string): Promise<void>; finish(): Promise<void>; abort(): void };

function writer(stream: NodeJS.WritableStream) {
  return (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stream.write(text)) resolve();
      else {
        stream.once('drain', resolve);
        stream.once('error', reject);
      }
    });
}

/**
 * Where an export goes: stdout, or a file written beside its final name and renamed into place
 * only when complete — a failed or interrupted export never leaves a partial file under the
 * final name.
 */
export function openSink(out: string | undefined): Sink {
  if (!out) {
    return { write: writer(process.stdout), finish: async () => undefined, abort: () => undefined };
  }
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
  return {
    write: writer(stream),
    finish: async () => {
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      renameSync(partial, out);
      done = true;
      unregister();
    },
    abort: () => {
      unregister();
      abort();
    },
  };
}

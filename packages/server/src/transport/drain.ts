/**
 * The one way a connection waits for its outbound buffer: on the very object it
 * writes to. Node emits 'drain' on a stream only after a `write` to that same
 * stream returned false, so watching another object (a ServerResponse whose bytes
 * were written to its socket behind its back) waits forever.
 */

/** The part of a writable stream (a socket, or a ServerResponse) that a drain wait needs. */
export interface DrainSource {
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves once `stream` has emptied its buffer ('drain') or closed. Resolves at
 * once when no 'drain' is due (nothing buffered, or the last write stayed under the
 * stream's high-water mark), because none would come: the caller then writes on,
 * and its next write over the mark makes one due.
 */
export function drained(stream: DrainSource): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0 || !stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

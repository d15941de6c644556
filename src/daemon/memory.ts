// Giving memory back after large input. V8 frees a Buffer only when it collects garbage, and it collects when
// JavaScript allocates, after up to 64 MiB of buffers have died: a daemon that has just dropped the partly
// received messages of many clients may then sit idle with them resident for hours, and a second burst adds to
// the first. So once enough input has been given back, one full collection runs, right after the events of this
// turn of the event loop (all the connections that closed together), before any new input is read.
import v8 from 'node:v8';
import vm from 'node:vm';

/** input given back below this is left to V8's own schedule */
const COLLECT_AFTER_BYTES = 8 * 1024 * 1024;

let gc: (() => void) | undefined;
let scheduled = false;
let released = 0;

/**
 * Make gc() available (it exists only in contexts made after the flag is set). Called at start-up: the context
 * lives as long as the daemon, and it is better placed in memory before any burst than in the middle of one.
 */
export function prepareGarbageCollection(): void {
  if (gc) return;
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc') as () => void;
}

/** Bytes of input the RPC server gave back (see InputBudget). */
export function inputReleased(bytes: number): void {
  released += bytes;
  if (released < COLLECT_AFTER_BYTES || scheduled) return;
  prepareGarbageCollection();
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    released = 0;
    gc!();
  });
}

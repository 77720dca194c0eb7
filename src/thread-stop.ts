// Stopping a supervised worker thread without taking the process down with it. worker.terminate()
// stops JavaScript wherever it runs; inside a native call that calls back into JavaScript
// (tree-sitter reading its input or asking its progress callback), the addon meets the termination
// as a C++ exception it cannot unwind, and the whole process aborts. So a thread wraps such calls in
// nativeCall, and its supervisor stops it only outside them: at once when it runs plain
// JavaScript, or the thread stops itself as it leaves the native call.
//
//   cell[STATE]:  RUNNING ──nativeCall──► NATIVE ──return──► RUNNING
//                    │ supervisor: STOP       │ supervisor: STOP
//                    ▼                        ▼
//                  terminated now           the thread exits when the call returns
//
// The cell also carries the thread's Linux id, so the supervisor can read the CPU time the thread
// itself has used (a deadline in CPU time does not fire on a thread that merely waited for a core).
import { readFileSync, readlinkSync } from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';

const STATE = 0;
const TID = 1;
const RUNNING = 0;
const NATIVE = 1;
const STOP = 2;

/** The workerData key the supervisor passes the cell under. */
export const STOP_CELL_KEY = 'threadStopCell';

const cell: Int32Array | undefined = !isMainThread && workerData?.[STOP_CELL_KEY] instanceof SharedArrayBuffer
  ? new Int32Array(workerData[STOP_CELL_KEY])
  : undefined;
if (cell) Atomics.store(cell, TID, currentThreadId() ?? 0);
/** Nested native calls change the state only at the outermost. */
let depth = 0;

function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

function stopHere(): never {
  // In a worker thread process.exit ends the thread, not the process.
  process.exit(1);
}

function enter(): void {
  if (cell && depth++ === 0 && Atomics.compareExchange(cell, STATE, RUNNING, NATIVE) !== RUNNING) stopHere();
}

function leave(): void {
  if (cell && --depth === 0 && Atomics.compareExchange(cell, STATE, NATIVE, RUNNING) !== NATIVE) stopHere();
}

/** Runs a native call the supervisor must not terminate this thread inside. */
export function nativeCall<T>(fn: () => T): T {
  enter();
  try {
    return fn();
  } finally {
    leave();
  }
}

/** The same for an addon that runs its native part later on this thread (onnxruntime-node's session.run, in a setImmediate): the thread is not terminated until the promise settles. */
export async function nativeTask<T>(fn: () => Promise<T>): Promise<T> {
  enter();
  try {
    return await fn();
  } finally {
    leave();
  }
}

/** The supervisor's side of one thread's cell. */
export class ThreadStopCell {
  readonly buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  private readonly view = new Int32Array(this.buffer);

  /** Asks the thread to stop: true when it runs plain JavaScript and may be terminated now; false when it will exit by itself as its native call returns. */
  stop(): boolean {
    return Atomics.exchange(this.view, STATE, STOP) !== NATIVE;
  }

  /** CPU milliseconds the thread has used (Linux, once the thread has loaded this module); undefined where unknown. */
  cpuMs(): number | undefined {
    const tid = Atomics.load(this.view, TID);
    if (tid === 0) return undefined;
    try {
      // Fields after the parenthesised name: state is the 1st, utime the 12th, stime the 13th, in
      // clock ticks of 10 ms (USER_HZ is 100 on Linux).
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  }
}

// Runs in a worker thread: onnxruntime-node's session.run blocks its thread for the whole batch,
// so the event loop that answers HTTP must never own the session.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../config.ts';
import { cudaUnavailableReason } from './cuda.ts';
import { sessionOptions } from './session-options.ts';

export interface WorkerInit {
  onnxPath: string;
  provider: ExecutionProvider;
  intraOpThreads: number;
  /** Linux nice value for this thread and the ONNX Runtime threads it starts (0: leave as is). */
  nice?: number;
}

export type WorkerRequest = { id: number; inputIds: BigInt64Array; attentionMask: BigInt64Array; batchSize: number; seqLen: number };
export type WorkerMessage =
  /** On CPU under `auto`: why, and whether CUDA was tried and failed (a warning) or never possible (information). */
  | { type: 'ready'; executionProvider: string; cpuReason?: { message: string; cudaFailed: boolean } }
  | { type: 'init_failed'; message: string }
  | { type: 'result'; id: number; logits: Float32Array }
  | { type: 'failed'; id: number; message: string };

const init = workerData as WorkerInit;
const port = parentPort!;

async function createSession(): Promise<{ session: ort.InferenceSession; provider: string; cpuReason?: { message: string; cudaFailed: boolean } }> {
  const create = (provider: string) => ort.InferenceSession.create(init.onnxPath, sessionOptions(init.intraOpThreads, provider));
  if (init.provider === 'cpu') return { session: await create('cpu'), provider: 'cpu' };
  const unavailable = init.provider === 'auto' ? cudaUnavailableReason() : undefined;
  if (unavailable) return { session: await create('cpu'), provider: 'cpu', cpuReason: { message: unavailable, cudaFailed: false } };
  try {
    return { session: await create('cuda'), provider: 'cuda' };
  } catch (err) {
    if (init.provider === 'cuda') throw err;
    return { session: await create('cpu'), provider: 'cpu', cpuReason: { message: (err as Error).message.split('\n')[0], cudaFailed: true } };
  }
}

/**
 * On Linux a nice value belongs to a thread, and threads inherit their creator's: set on this thread
 * before the session exists, it also covers ONNX Runtime's intra-op pool. The event loop keeps nice
 * 0, so on contended cores HTTP and /health run first and the model takes the rest.
 */
function lowerThreadPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
  } catch {
    // Without /proc or the permission, the model simply shares the cores at equal priority.
  }
}

async function main(): Promise<void> {
  lowerThreadPriority(init.nice ?? 0);
  let session: ort.InferenceSession;
  try {
    const created = await createSession();
    session = created.session;
    port.postMessage({ type: 'ready', executionProvider: created.provider, cpuReason: created.cpuReason } satisfies WorkerMessage);
  } catch (err) {
    port.postMessage({ type: 'init_failed', message: (err as Error).message } satisfies WorkerMessage);
    return;
  }
  port.on('message', async (req: WorkerRequest) => {
    try {
      const dims = [req.batchSize, req.seqLen];
      const out = await session.run({
        input_ids: new ort.Tensor('int64', req.inputIds, dims),
        attention_mask: new ort.Tensor('int64', req.attentionMask, dims),
      });
      const logits = Float32Array.from(out.logits.data as Float32Array);
      port.postMessage({ type: 'result', id: req.id, logits } satisfies WorkerMessage, [logits.buffer]);
    } catch (err) {
      port.postMessage({ type: 'failed', id: req.id, message: (err as Error).message.split('\n')[0] } satisfies WorkerMessage);
    }
  });
}

void main();

// A prep worker thread: its own tokenizer, answering one slice of one request at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidRequestError } from '../errors.ts';
import { LocalizationInputError, scoreLocalizationItems } from '../localization/index.ts';
import { PromptEncoder } from '../prompt/prompt.ts';
import { prepareItem } from './prepare.ts';
import type { PrepInit, PrepRequest, PrepResponse } from './pool.ts';

const init = workerData as PrepInit;
const port = parentPort!;
const encoder = new PromptEncoder(init, init.maxLength);

/** fn over each unit in order, stopping before the next one once the job is cancelled: the units done, or how many. */
function eachUntilCancelled<T, R>(units: readonly T[], cancel: Int32Array | undefined, fn: (unit: T) => R): R[] | { done: number } {
  const out: R[] = [];
  for (const unit of units) {
    if (cancel && Atomics.load(cancel, 0) !== 0) return { done: out.length };
    out.push(fn(unit));
  }
  return out;
}

function answer(req: Exclude<PrepRequest, { kind: 'close' }>): PrepResponse {
  switch (req.kind) {
    case 'items': {
      const items = eachUntilCancelled(req.items, req.cancel, (item) => prepareItem(encoder, item, req.extraction, req.shaping));
      return Array.isArray(items) ? { id: req.id, kind: 'items', items } : { id: req.id, kind: 'cancelled', done: items.done };
    }
    case 'texts': {
      const prompts = eachUntilCancelled(req.texts, req.cancel, (t) => encoder.encodeText(t, req.addSpecialTokens, req.keepLast));
      return Array.isArray(prompts) ? { id: req.id, kind: 'texts', prompts } : { id: req.id, kind: 'cancelled', done: prompts.done };
    }
    case 'render':
      return { id: req.id, kind: 'render', text: encoder.renderChat(req.question, req.code) };
    case 'messages':
      return { id: req.id, kind: 'render', text: encoder.renderMessages(req.messages, req.addGenerationPrompt) };
    case 'tokenize':
      return { id: req.id, kind: 'tokenized', tokenized: encoder.tokenizeRequest(req.req) };
    case 'detokenize':
      return { id: req.id, kind: 'detokenized', result: encoder.detokenize(req.ids) };
    case 'localize':
      try {
        return { id: req.id, kind: 'localized', results: scoreLocalizationItems(req.items, req.offset, req.weights) };
      } catch (err) {
        if (!(err instanceof LocalizationInputError)) throw err;
        return { id: req.id, kind: 'refused', code: err.code, detail: err.detail, path: err.path };
      }
  }
}

port.on('message', (req: PrepRequest) => {
  if (req.kind === 'close') process.exit(0);
  let res: PrepResponse;
  try {
    res = answer(req);
  } catch (err) {
    // A request's own fault (its messages) crosses the thread as one; anything else is the service's.
    res = err instanceof InvalidRequestError ? { id: req.id, kind: 'invalid', message: err.message } : { id: req.id, kind: 'failed', message: (err as Error).message };
  }
  // The token ids travel by transfer, not by copy.
  const buffers = res.kind === 'items' ? res.items.flatMap((p) => (p.prompt ? [p.prompt.ids.buffer] : []))
    : res.kind === 'texts' ? res.prompts.map((p) => p.ids.buffer) : [];
  port.postMessage(res, buffers as ArrayBuffer[]);
});
port.postMessage({ id: 0, kind: 'ready' } satisfies PrepResponse);

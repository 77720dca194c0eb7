// The real prep worker, except for items whose question is one of these: a slice holding one
// throws from inside the real code (with an internal-looking message), or never ends, spinning in
// plain JavaScript or in tree-sitter (parses and tree walks). Imported on the main thread (by a
// test, for the constants), it does nothing else.
import { parentPort } from 'node:worker_threads';

export const THROW_QUESTION = 'throw inside this prep worker';
export const SPIN_JS_QUESTION = 'spin this prep worker in JavaScript';
export const SPIN_NATIVE_QUESTION = 'spin this prep worker in tree-sitter';
/** The message of the thrown error: it must reach the log, never a response. */
export const INTERNAL_MESSAGE = 'secret internal detail at /srv/app/node_modules/x.js:1';

if (parentPort) {
  const { PromptEncoder } = await import('../../src/prompt/prompt.ts');
  const { checkPythonSyntax } = await import('../../src/pysyntax/validity.ts');
  const { outlinePython } = await import('../../src/localization/outline.ts');
  const encodeChat = PromptEncoder.prototype.encodeChat;
  PromptEncoder.prototype.encodeChat = function (question: string, code: string) {
    if (question === THROW_QUESTION) throw new Error(INTERNAL_MESSAGE);
    if (question === SPIN_JS_QUESTION) for (;;);
    if (question === SPIN_NATIVE_QUESTION) {
      // Mostly inside tree-sitter, parsing and walking trees, so a deadline usually lands in a native call.
      const source = 'class A:\n' + '    def f(self):\n        return [1, (2, {3: 4})]\n'.repeat(3000);
      for (let row = 0; ; row = (row + 1) % 6000) {
        checkPythonSyntax(source);
        outlinePython(source).locationAt(row);
      }
    }
    return encodeChat.call(this, question, code);
  };
  await import('../../src/prep/prep-worker.ts');
}

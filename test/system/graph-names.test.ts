// The graphs' input and output names are written twice: src/model/graph-names.ts for the service
// and the model maker, scripts/past_graph.py for the torch exporter. Python's own io_names() is run
// here and compared, so a rename on either side fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { pastGraphNames } from '../../src/model/graph-names.ts';

const SCRIPTS = fileURLToPath(new URL('../../scripts', import.meta.url));
const LAYERS = [0, 1, 3, 28];

describe('graph names', () => {
  it('model-past.onnx\'s inputs and outputs, in order, as scripts/past_graph.py names them', () => {
    const program = `import json, sys; sys.path.insert(0, sys.argv[1]); import past_graph; print(json.dumps([past_graph.io_names(n) for n in ${JSON.stringify(LAYERS)}]))`;
    const python: [string[], string[]][] = JSON.parse(execFileSync('python3', ['-c', program, SCRIPTS], { encoding: 'utf8' }));
    assert.equal(python.length, LAYERS.length);
    LAYERS.forEach((layers, k) => {
      const { inputs, outputs } = pastGraphNames(layers);
      assert.deepEqual({ inputs, outputs }, { inputs: python[k][0], outputs: python[k][1] }, `${layers} layers`);
    });
  });
});

// Agreement with python3's ast.parse on a corpus built at test time from the
// machine's standard library (see fixtures/extract/corpus.ts): real code,
// windows that cut blocks and strings, and random corruptions, nothing
// filtered. Also measured: plain tree-sitter `rootNode.hasError`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import { checkPythonSyntax } from '../src/extract/validity.ts';
import { buildCorpus, judge } from './fixtures/extract/corpus.ts';

const SIZE = 4000;
const SEED = 20240601;

test(`validity agrees with python3 ast.parse on a ${SIZE}-program stdlib corpus`, () => {
  const corpus = buildCorpus(SIZE, SEED);
  const truth = judge(corpus.map((p) => p.code));

  const tsParser = new Parser();
  tsParser.setLanguage(Python as unknown as Parser.Language);

  let agree = 0;
  let falseValid = 0;
  let falseInvalid = 0;
  let baselineAgree = 0;
  const disagreements: string[] = [];
  const t0 = performance.now();
  corpus.forEach((p, i) => {
    const mine = checkPythonSyntax(p.code).valid;
    if (mine === truth[i].valid) agree++;
    else {
      if (mine) falseValid++;
      else falseInvalid++;
      disagreements.push(`${mine ? 'false-valid' : 'false-invalid'} ${p.source} (${p.kind}, ${p.corruption ?? 'clean'}): python says ${JSON.stringify(truth[i])}\n${p.code.slice(0, 400)}`);
    }
  });
  const ms = performance.now() - t0;
  corpus.forEach((p, i) => {
    if (!tsParser.parse(p.code).rootNode.hasError === truth[i].valid) baselineAgree++;
  });

  const pct = (x: number) => `${((100 * x) / SIZE).toFixed(2)}%`;
  const corrupted = corpus.filter((p) => p.corruption).length;
  const valid = truth.filter((t) => t.valid).length;
  console.log(`# corpus: ${SIZE} programs (${corrupted} corrupted), ${valid} valid per ast.parse`);
  console.log(`# agreement ${pct(agree)}, false-valid ${pct(falseValid)}, false-invalid ${pct(falseInvalid)} (${ms.toFixed(0)} ms)`);
  console.log(`# baseline tree-sitter hasError: agreement ${pct(baselineAgree)}`);
  for (const d of disagreements.slice(0, 5)) console.log('# ' + d.replace(/\n/g, '\n#   '));

  assert.ok(corrupted >= SIZE / 2);
  assert.ok(agree / SIZE >= 0.995, `agreement ${pct(agree)}`);
  assert.ok(falseValid / SIZE <= 0.005, `false-valid ${pct(falseValid)}`);
  assert.ok(falseInvalid / SIZE <= 0.002, `false-invalid ${pct(falseInvalid)}`);
});

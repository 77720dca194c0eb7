// Agreement with python3's ast.parse on corpora built at test time (see
// fixtures/extract/corpus.ts), nothing filtered: the machine's standard
// library, and third-party packages from the pip mirror corrupted the way LLM
// answers are. Also measured: plain tree-sitter `rootNode.hasError`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import { checkPythonSyntax } from '../../src/pysyntax/validity.ts';
import { buildCorpus, buildPackageCorpus, judge, type CorpusProgram } from '../fixtures/pysyntax/corpus.ts';

const tsParser = new Parser();
tsParser.setLanguage(Python as unknown as Parser.Language);

interface Targets { agreement: number; falseValid: number; falseInvalid: number }

function measure(corpus: CorpusProgram[], targets: Targets): void {
  const size = corpus.length;
  const truth = judge(corpus.map((p) => p.code));
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

  const pct = (x: number) => `${((100 * x) / size).toFixed(2)}%`;
  const corrupted = corpus.filter((p) => p.corruption).length;
  const valid = truth.filter((t) => t.valid).length;
  console.log(`# corpus: ${size} programs (${corrupted} corrupted), ${valid} valid per ast.parse`);
  console.log(`# agreement ${pct(agree)}, false-valid ${pct(falseValid)} (${falseValid}), false-invalid ${pct(falseInvalid)} (${falseInvalid}) (${ms.toFixed(0)} ms)`);
  console.log(`# baseline tree-sitter hasError: agreement ${pct(baselineAgree)}`);
  for (const d of disagreements.slice(0, 5)) console.log('# ' + d.replace(/\n/g, '\n#   '));

  assert.ok(corrupted >= size / 2);
  assert.ok(agree / size >= targets.agreement, `agreement ${pct(agree)}`);
  assert.ok(falseValid / size <= targets.falseValid, `false-valid ${pct(falseValid)}`);
  assert.ok(falseInvalid / size <= targets.falseInvalid, `false-invalid ${pct(falseInvalid)}`);
}

// Both corpora measured 100% agreement when these bounds were set.
const TARGETS: Targets = { agreement: 0.999, falseValid: 0.001, falseInvalid: 0.001 };

test('validity agrees with python3 ast.parse on a 4000-program stdlib corpus', () => {
  measure(buildCorpus(4000, 20240601), TARGETS);
});

test('validity agrees with python3 ast.parse on a 5000-program corpus of package code with LLM-style mistakes', () => {
  measure(buildPackageCorpus(5000, 20261130), TARGETS);
});

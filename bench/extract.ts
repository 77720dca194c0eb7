// Throughput of the extract stage (fence extraction + validity verdict) next
// to plain tree-sitter parsing of the same code, in the same run, one core.
//   npx tsx bench/extract.ts [--rounds N]
// Each measurement alternates the two and keeps the best round of each, so
// load from other processes skews both the same way.
import { readFileSync } from 'node:fs';
import Parser from 'tree-sitter';
import Python from 'tree-sitter-python';
import { extractCode } from '../src/extract/fences.ts';
import { checkPythonSyntax } from '../src/pysyntax/validity.ts';
import { buildCorpus, stdlibDir, stdlibFiles } from '../test/fixtures/pysyntax/corpus.ts';
import { mulberry32 as rng } from '../tools/mulberry32.ts';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;

const parser = new Parser();
parser.setLanguage(Python as unknown as Parser.Language);

function wholeFiles(count: number, seed: number): string[] {
  const files = stdlibFiles(stdlibDir());
  const r = rng(seed);
  const out: string[] = [];
  while (out.length < count) {
    const text = readFileSync(files[Math.floor(r() * files.length)], 'utf8');
    if (text.length < 200_000) out.push(text);
  }
  return out;
}

const sets: [string, string[]][] = [
  ['stdlib corpus programs (half corrupted)', buildCorpus(3000, 7).map((p) => p.code)],
  ['whole stdlib files', wholeFiles(300, 11)],
];

function best(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

console.log(`extract bench: best of ${ROUNDS} alternating rounds, one core (node ${process.version})`);
console.log('set'.padEnd(42), 'MB'.padStart(6), 'tree-sitter MB/s'.padStart(17), 'extract+validity MB/s'.padStart(22), 'ratio'.padStart(7), 'valid'.padStart(7));
for (const [name, codes] of sets) {
  const responses = codes.map((c) => `Here is my solution.\n\n\`\`\`python\n${c}\n\`\`\`\n\nIt runs in linear time.`);
  const mb = codes.reduce((a, c) => a + Buffer.byteLength(c), 0) / 1e6;
  let valid = 0;
  const treeSitter = () => {
    for (const c of codes) parser.parse(c);
  };
  const ours = () => {
    valid = 0;
    for (const r of responses) {
      const { status, code } = extractCode(r, 'single_block');
      if (status === 'ok' && checkPythonSyntax(code).valid) valid++;
    }
  };
  treeSitter();
  ours();
  let tsMs = Infinity;
  let oursMs = Infinity;
  for (let k = 0; k < ROUNDS; k++) {
    tsMs = Math.min(tsMs, best(treeSitter));
    oursMs = Math.min(oursMs, best(ours));
  }
  const tsRate = mb / (tsMs / 1000);
  const oursRate = mb / (oursMs / 1000);
  console.log(
    name.padEnd(42),
    mb.toFixed(2).padStart(6),
    tsRate.toFixed(2).padStart(17),
    oursRate.toFixed(2).padStart(22),
    `${(oursRate / tsRate).toFixed(2)}x`.padStart(7),
    `${valid}/${codes.length}`.padStart(7),
  );
}

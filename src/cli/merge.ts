// `code-reward-service merge OUT.0 OUT.1 ... -o ALL.jsonl --input IN.jsonl`: the outputs of
// `score --shard I/N` as one file, in input order, as an unsharded run writes it. Only the input says
// which lines exist, so it is read alongside: every well-formed input line must appear in exactly one
// shard output, malformed and blank lines in none. Any line missing, doubled or unknown fails the
// merge, naming the lines, and ALL.jsonl is not written.
//
//   IN ───────── line L: well-formed? ─┐
//   OUT.0 ─ head ─┐                    ├─ expect one output line with "line": L ─► ALL (input order)
//   OUT.N ─ head ─┴─ heads with line L ┘
//
// Each shard output is in input order, so the merge streams: one line per shard is held, never a file.
import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseInputLine } from './score-file.ts';

export interface MergeSummary {
  lines: number;
  written: number;
}

/** Lines named in a failed merge's message, per kind, before "and N more". */
const NAMED = 20;

export class MergeError extends Error {
  override name = 'MergeError';
}

/** One shard output, read a line at a time; `line` is the head's input line number (Infinity at the end). */
class ShardReader {
  line = Number.POSITIVE_INFINITY;
  text = '';
  private lineNo = 0;
  private readonly lines: AsyncIterator<string>;
  constructor(readonly path: string) {
    this.lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  async advance(): Promise<void> {
    const previous = this.line === Number.POSITIVE_INFINITY ? 0 : this.line;
    for (;;) {
      const next = await this.lines.next();
      if (next.done) {
        this.line = Number.POSITIVE_INFINITY;
        return;
      }
      this.lineNo++;
      if (next.value === '') continue;
      let line: unknown;
      try {
        line = (JSON.parse(next.value) as { line?: unknown }).line;
      } catch {
        throw new MergeError(`${this.path}:${this.lineNo}: not valid JSON; not an output of code-reward-service score`);
      }
      if (typeof line !== 'number' || !Number.isInteger(line)) throw new MergeError(`${this.path}:${this.lineNo}: no "line" field; not an output of code-reward-service score`);
      if (line < previous) throw new MergeError(`${this.path}:${this.lineNo}: input line ${line} comes after line ${previous}; a shard output is in input order`);
      this.line = line;
      this.text = next.value;
      return;
    }
  }
}

const named = (lines: number[]) => lines.slice(0, NAMED).join(', ') + (lines.length > NAMED ? ` and ${lines.length - NAMED} more` : '');

export async function mergeShards(input: string, shards: string[], output: string): Promise<MergeSummary> {
  const readers = shards.map((path) => new ShardReader(path));
  await Promise.all(readers.map((r) => r.advance()));
  const missing: number[] = [];
  const doubled: number[] = [];
  const unexpected: number[] = [];
  const partial = `${output}.partial`;
  const out = createWriteStream(partial);
  let lineNo = 0;
  let written = 0;
  /** Takes every shard head at input line `line`; returns their texts. */
  const take = async (line: number) => {
    const texts: string[] = [];
    for (const r of readers) {
      while (r.line === line) {
        texts.push(r.text);
        await r.advance();
      }
    }
    return texts;
  };
  try {
    for await (const text of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
      lineNo++;
      // Output lines for input lines before this one that no earlier step took: out of place.
      for (const r of readers) while (r.line < lineNo) { unexpected.push(r.line); await r.advance(); }
      const expected = text.trim() !== '' && !('error' in parseInputLine(text));
      const found = await take(lineNo);
      if (!expected) {
        if (found.length > 0) unexpected.push(lineNo);
        continue;
      }
      if (found.length === 0) missing.push(lineNo);
      else if (found.length > 1) doubled.push(lineNo);
      else {
        if (!out.write(found[0] + '\n')) await once(out, 'drain');
        written++;
      }
    }
    for (const r of readers) while (r.line !== Number.POSITIVE_INFINITY) { unexpected.push(r.line); await r.advance(); }
  } finally {
    out.end();
    await once(out, 'close');
  }
  const faults = [
    missing.length > 0 ? `${missing.length} input line(s) in no shard output: ${named(missing)}` : '',
    doubled.length > 0 ? `${doubled.length} input line(s) in more than one place: ${named(doubled)}` : '',
    unexpected.length > 0 ? `${unexpected.length} output line(s) for no well-formed input line (another input?): ${named(unexpected)}` : '',
  ].filter(Boolean);
  if (faults.length > 0) {
    rmSync(partial, { force: true });
    throw new MergeError(`${faults.join('; ')}. Score the missing shards again (a rerun resumes), then merge; ${output} was not written.`);
  }
  renameSync(partial, output);
  return { lines: lineNo, written };
}

// Scoring a JSONL file of {question, response} lines through the service's own scorer, in process.
// Memory stays flat whatever the file's length: lines are read as a stream, scored in chunks with a
// few chunks in flight, and written in input order as their chunk completes.
//
//   IN ──readline──► parse ──► chunk (CHUNK_ITEMS) ──► Scorer.score ─┐  at most DEPTH chunks in flight
//                      │                                            ▼
//                      └─ malformed: reported with its line number   OUT (one line per input line)
//
// Every output line carries `line`, the input line number, so a rerun resumes after the last line OUT
// holds (a half-written last line, from a killed run, is cut off first).
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, openSync, readSync, closeSync, statSync, truncateSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ExtractionMode } from '../extract/fences.ts';
import { shardOf } from './group-key.ts';
import { MAX_JSON_DEPTH, jsonErrorPosition } from '../http/json-body.ts';
import type { ItemResult, Scorer } from '../scorer.ts';
import type { Shaping } from '../shape/shaping.ts';
import { Progress } from './progress.ts';

/** Items per Scorer.score call: big enough to fill model batches, small next to MAX_QUEUE_ITEMS. */
const CHUNK_ITEMS = 256;
/** Chunks in flight: one being prepared, one in the model, the rest waiting; DEPTH × CHUNK_ITEMS items held. */
const DEPTH = 4;

export interface ScoreFileOptions {
  input: string;
  output: string;
  extraction: ExtractionMode;
  shaping: Shaping;
  /** An input field that must be kept in the output (the group key of --group-by). */
  keep?: string;
  /** Score only the lines whose question falls in this shard (`--shard I/N`); a question's lines all fall in one. */
  shard?: Shard;
  progressStream?: NodeJS.WriteStream;
  progressEveryS?: number;
  /** Where skipped lines and notes go. */
  report?: (msg: string) => void;
}

export interface ScoreFileSummary {
  lines: number;
  scored: number;
  valid: number;
  malformed: number;
  /** Input lines that were already in the output at start. */
  resumedAfter: number;
}

export interface Shard {
  index: number;
  count: number;
}

type InputRecord = Record<string, unknown> & { question: string; response: string };

/** One input line as a record, or why it cannot be scored. */
export function parseInputLine(text: string): { record: InputRecord } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const at = jsonErrorPosition(text);
    if (at?.tooDeep) return { error: `not valid JSON (nested more than ${MAX_JSON_DEPTH} deep at column ${at.column})` };
    return { error: at ? `not valid JSON (unexpected ${at.offset < text.length ? JSON.stringify(text[at.offset]) : 'end of line'} at column ${at.column})` : 'not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  for (const field of ['question', 'response']) {
    if (typeof record[field] !== 'string') return { error: `"${field}" must be a string, got ${record[field] === undefined ? 'nothing' : JSON.stringify(record[field]).slice(0, 40)}` };
  }
  return { record: record as InputRecord };
}

/** The output line of one input record: its line number, its id fields (all but question and response), the result. */
export function outputLine(line: number, record: InputRecord, result: ItemResult, keep?: string): string {
  const { question, response, ...ids } = record;
  const kept = keep === 'question' ? { question } : keep === 'response' ? { response } : {};
  return JSON.stringify({ line, ...ids, ...kept, ...result });
}

/** Lines of a file, counting a last line without its newline. */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 10 ? lines : lines + 1;
}

/**
 * The input line number the output ends with (0 for none), after cutting off a half-written last
 * line. Reads backwards from the end in blocks, so it costs the last line, not the file.
 */
export function resumePoint(output: string): number {
  if (!existsSync(output)) return 0;
  const size = statSync(output).size;
  if (size === 0) return 0;
  const fd = openSync(output, 'r');
  try {
    const read = (from: number, length: number) => {
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, from);
      return buf;
    };
    let end = size;
    if (read(size - 1, 1)[0] !== 10) {
      // A killed run left a partial line: drop it, and score its input line again.
      end = lastNewline(read, size) + 1;
      truncateSync(output, end);
      if (end === 0) return 0;
    }
    const start = lastNewline(read, end - 1) + 1;
    const last = JSON.parse(read(start, end - 1 - start).toString('utf8')) as { line?: unknown };
    if (typeof last.line !== 'number') throw new Error(`${output}: its last line has no "line" field; not an output of this command`);
    return last.line;
  } finally {
    closeSync(fd);
  }
}

/** Offset of the last newline before `before`, or -1. */
function lastNewline(read: (from: number, length: number) => Buffer, before: number): number {
  const BLOCK = 65536;
  for (let end = before; end > 0; end -= BLOCK) {
    const from = Math.max(0, end - BLOCK);
    const i = read(from, end - from).lastIndexOf(10);
    if (i !== -1) return from + i;
  }
  return -1;
}

interface Pending {
  line: number;
  record: InputRecord;
}

export async function scoreFile(scorer: Scorer, opts: ScoreFileOptions): Promise<ScoreFileSummary> {
  const report = opts.report ?? ((msg: string) => console.error(msg));
  const resumedAfter = resumePoint(opts.output);
  if (resumedAfter > 0) report(`${opts.output} already holds results up to input line ${resumedAfter}: resuming after it`);
  const total = await countLines(opts.input);
  const progress = new Progress(total, resumedAfter, opts.progressStream, opts.progressEveryS);
  const counts = { lines: resumedAfter, scored: 0, valid: 0 };
  let malformed = 0;

  const out = createWriteStream(opts.output, { flags: 'a' });
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const inFlight: Promise<{ chunk: Pending[]; results: ItemResult[] }>[] = [];
  const send = (chunk: Pending[]) => {
    const scored = scorer.score(chunk.map((p) => p.record), opts.extraction, opts.shaping).then(({ results }) => ({ chunk, results }));
    scored.catch(() => {}); // awaited in order below; this only keeps a later chunk's failure from being unhandled meanwhile
    inFlight.push(scored);
  };
  /** Writes the oldest chunk once it is scored: output stays in input order. */
  const writeOldest = async () => {
    const { chunk, results } = await inFlight.shift()!;
    await write(chunk.map((p, i) => outputLine(p.line, p.record, results[i], opts.keep) + '\n').join(''));
    counts.scored += chunk.length;
    counts.valid += results.filter((r) => r.valid).length;
    counts.lines = chunk[chunk.length - 1].line;
    progress.update(counts);
  };

  const input = createInterface({ input: createReadStream(opts.input), crlfDelay: Infinity });
  let lineNo = 0;
  let chunk: Pending[] = [];
  try {
    for await (const text of input) {
      lineNo++;
      if (lineNo <= resumedAfter || text.trim() === '') continue;
      const parsed = parseInputLine(text);
      if ('error' in parsed) {
        malformed++;
        // Every shard reads every line; the first one reports the malformed ones.
        if (opts.shard === undefined || opts.shard.index === 0) report(`${opts.input}:${lineNo}: skipped: ${parsed.error}`);
        continue;
      }
      if (opts.shard !== undefined && shardOf(parsed.record.question, opts.shard.count) !== opts.shard.index) continue;
      chunk.push({ line: lineNo, record: parsed.record });
      if (chunk.length < CHUNK_ITEMS) continue;
      send(chunk);
      chunk = [];
      if (inFlight.length >= DEPTH) await writeOldest();
    }
    if (chunk.length > 0) send(chunk);
    while (inFlight.length > 0) await writeOldest();
  } finally {
    input.close();
    out.end();
    await once(out, 'close');
  }
  counts.lines = lineNo;
  progress.update(counts, true);
  return { lines: lineNo, scored: counts.scored, valid: counts.valid, malformed, resumedAfter };
}

// `code-reward-service score IN.jsonl -o OUT.jsonl`: offline scoring with the service's own
// extraction, model and shaping, in process (no HTTP). For best-of-N evaluation and for labelling a
// dataset with rewards. Every service option (MODEL_DIR, EXECUTION_PROVIDER, MAX_LENGTH, ...) applies,
// as an environment variable or a flag. Over a cluster, `score --shard I/N` scores one shard and
// `merge` joins the shards' outputs (deploy/k8s/score-job.yaml runs both as a Kubernetes Job).
import { parseArgs } from 'node:util';
import { ConfigError, describeOptions, loadConfig } from '../config.ts';
import { EXTRACTION_MODES, type ExtractionMode } from '../extract/fences.ts';
import { createLogger, warnIfDemoModel } from '../log.ts';
import { ModelDirError, loadModelDir } from '../model/model-dir.ts';
import { SHAPINGS, type Shaping } from '../shape/shaping.ts';
import type { Shard } from './score-file.ts';

const USAGE = `usage: code-reward-service score IN.jsonl -o OUT.jsonl [options]
       code-reward-service merge OUT.0 OUT.1 ... -o ALL.jsonl --input IN.jsonl

Scores each {"question", "response"} line of IN.jsonl and writes one line per input line to OUT.jsonl:
{"line", <the input's other fields, e.g. id>, "reward", "raw_score", "valid", "status", ...}.
A rerun resumes after the last line OUT.jsonl holds. Malformed lines are reported and skipped.

  -o, --output FILE        where the results go (required)
  --extraction MODE        ${EXTRACTION_MODES.join(' | ')} (default single_block, the RL recipe)
  --shaping SHAPING        ${SHAPINGS.join(' | ')} (default softplus)
  --group-by FIELD         with --top-k: write the best K lines per FIELD value (e.g. question) to
  --top-k K                OUT.jsonl, ranked by reward; every scored line goes to OUT.jsonl.all
  --progress-every S       seconds between progress lines when stderr is not a terminal (default 10)
  --shard I/N              score only shard I (0..N-1) of N: the lines whose question hashes there, so a
                           question's lines stay together (--group-by question --top-k holds per shard)

merge writes the shards' outputs as one, in input order, as an unsharded run writes it. It checks
that every well-formed line of IN.jsonl appears exactly once and names the lines missing or doubled
(then ALL.jsonl is not written). Merge the scored lines (OUT.jsonl.all with --top-k).

Service options, as flags or environment variables:
${describeOptions()}`;

class UsageError extends Error {}

interface CliOptions {
  input: string;
  output: string;
  extraction: ExtractionMode;
  shaping: Shaping;
  groupBy?: string;
  topK?: number;
  progressEveryS: number;
  shard?: Shard;
  /** Everything else: the service's own options. */
  serviceArgs: string[];
}

function parseCli(argv: string[]): CliOptions {
  const rest: string[] = [];
  const opts: Partial<CliOptions> = { extraction: 'single_block', shaping: 'softplus', progressEveryS: 10 };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-o':
      case '--output': opts.output = value(); break;
      case '--extraction': {
        const v = value();
        if (!(EXTRACTION_MODES as readonly string[]).includes(v)) throw new UsageError(`--extraction must be one of ${EXTRACTION_MODES.join(', ')}, got ${JSON.stringify(v)}`);
        opts.extraction = v as ExtractionMode;
        break;
      }
      case '--shaping': {
        const v = value();
        if (!(SHAPINGS as readonly string[]).includes(v)) throw new UsageError(`--shaping must be one of ${SHAPINGS.join(', ')}, got ${JSON.stringify(v)}`);
        opts.shaping = v as Shaping;
        break;
      }
      case '--group-by': opts.groupBy = value(); break;
      case '--top-k': {
        const v = value();
        if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--top-k must be a positive integer, got ${JSON.stringify(v)}`);
        opts.topK = Number(v);
        break;
      }
      case '--shard': {
        const v = value();
        const m = /^(\d+)\/([1-9]\d*)$/.exec(v);
        if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be I/N with 0 <= I < N (e.g. 0/4), got ${JSON.stringify(v)}`);
        opts.shard = { index: Number(m[1]), count: Number(m[2]) };
        break;
      }
      case '--progress-every': {
        const v = Number(value());
        if (!(v > 0)) throw new UsageError('--progress-every must be a positive number of seconds');
        opts.progressEveryS = v;
        break;
      }
      default:
        if (arg.startsWith('-')) {
          rest.push(arg);
          if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) rest.push(argv[++i]);
        } else {
          positional.push(arg);
        }
    }
  }
  if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'IN.jsonl is missing' : `one input file, got ${positional.join(' ')}`);
  if (!opts.output) throw new UsageError('-o OUT.jsonl is missing');
  if ((opts.groupBy === undefined) !== (opts.topK === undefined)) throw new UsageError('--group-by and --top-k go together');
  return { ...opts, input: positional[0], serviceArgs: rest } as CliOptions;
}

async function score(argv: string[]): Promise<void> {
  const cli = parseCli(argv);
  const config = loadConfig(process.env, cli.serviceArgs);
  const modelDir = loadModelDir(config.MODEL_DIR);
  const log = createLogger(config.LOG_LEVEL, 'stderr');
  warnIfDemoModel(config, log);
  const { createEngine, startModel } = await import('../engine.ts');
  const { scoreFile } = await import('./score-file.ts');
  const model = await startModel(config, modelDir, log);
  const engine = await createEngine(config, modelDir, model, log);
  const started = performance.now();
  // With --top-k, every scored line goes to OUT.all (what a rerun resumes from), the best K to OUT.
  const scoredPath = cli.topK === undefined ? cli.output : `${cli.output}.all`;
  try {
    const summary = await scoreFile(engine.scorer, {
      input: cli.input,
      output: scoredPath,
      extraction: cli.extraction,
      shaping: cli.shaping,
      keep: cli.groupBy,
      shard: cli.shard,
      progressEveryS: cli.progressEveryS,
    });
    const seconds = (performance.now() - started) / 1000;
    const peakMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    console.error(`scored ${summary.scored} lines (${summary.valid} valid, ${summary.malformed} malformed skipped${summary.resumedAfter ? `, ${summary.resumedAfter} done before` : ''}) in ${seconds.toFixed(1)} s, ${Math.round(summary.scored / seconds)} items/s, peak RSS ${peakMiB} MiB -> ${scoredPath}`);
    if (cli.topK !== undefined && cli.groupBy !== undefined) {
      const { writeTopK } = await import('./top-k.ts');
      const { groups, written } = await writeTopK(scoredPath, cli.output, cli.groupBy, cli.topK);
      console.error(`best ${cli.topK} of each of ${groups} ${cli.groupBy} groups: ${written} lines -> ${cli.output}`);
    }
  } finally {
    await engine.queue.drain();
    await engine.preparer.close();
    await model.close();
  }
}

async function merge(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { output: { type: 'string', short: 'o' }, input: { type: 'string' } } });
  if (!values.output) throw new UsageError('merge: -o ALL.jsonl is missing');
  if (!values.input) throw new UsageError('merge: --input IN.jsonl is missing (it says which lines must be there)');
  if (positionals.length === 0) throw new UsageError('merge: no shard outputs given');
  const { mergeShards } = await import('./merge.ts');
  const { lines, written } = await mergeShards(values.input, positionals, values.output);
  console.error(`merged ${positionals.length} shard output(s): ${written} lines for ${lines} input lines -> ${values.output}`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'score' && !rest.includes('--help')) return score(rest);
  if (command === 'merge' && !rest.includes('--help')) return merge(rest);
  if (command === undefined || command === '--help' || command === 'help' || rest.includes('--help')) {
    console.log(USAGE);
    return;
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') console.error(`code-reward-service: ${err.message}\n\n${USAGE.split('\n')[0]}\n(--help for the options)`);
  else if (err instanceof ConfigError || err instanceof ModelDirError || err?.name === 'MergeError') console.error(`code-reward-service: ${err.message}`);
  else console.error('code-reward-service: scoring stopped (run the same command again to resume):', err instanceof Error ? err.message : err);
  process.exit(1);
});

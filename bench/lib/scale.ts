// What test:scale and bench:scale share: GRPO groups (one question, N programs), and the compute a
// set of replicas saved, read from their own counters.
import { fence } from '../../test/support/fence.ts';
import { mulberry32 } from '../../tools/mulberry32.ts';
import type { BenchItem } from './corpus.ts';
import { counterSum, scrape, type Sample } from './scrape.ts';

const WORDS = ('list of integers return the sum product maximum minimum sorted order every element given array string '
  + 'count distinct values pairs target index first last window length substring prefix suffix graph node edge path '
  + 'shortest tree depth binary search matrix row column diagonal interval merge overlap stack queue heap frequency')
  .split(' ');

/**
 * `groups` GRPO groups of `size` distinct programs under one question of about `questionWords`
 * words, in group order (a group's items consecutive). A seed gives the same items; distinct seeds
 * give distinct questions, so no cache carries one phase's work into another's.
 */
export function grpoGroups(seed: number, groups: number, size: number, questionWords: number): BenchItem[] {
  const rand = mulberry32(seed);
  const items: BenchItem[] = [];
  for (let g = 0; g < groups; g++) {
    const words = Array.from({ length: questionWords }, () => WORDS[Math.floor(rand() * WORDS.length)]);
    const question = `Problem ${seed}-${g}: write solve(xs) for the following task. ${words.join(' ')}.`;
    for (let k = 0; k < size; k++) {
      const op = ['+', '-', '*', 'max', 'min'][k % 5];
      const body = op === 'max' || op === 'min' ? `best = ${op}(best, x + ${k})` : `best = best ${op} x * ${k + 1}`;
      const response = fence(`def solve(xs):\n    best = ${g % 7}\n    for x in xs:\n        ${body}\n    return best\n`);
      items.push({ index: items.length, source: `group ${g}`, question, response, valid: true });
    }
  }
  return items;
}

/** Tokens asked for (reward_tokens_total{kind="real"}) and tokens the network ran, summed over replicas. */
export interface Tokens {
  requested: number;
  computed: number;
}

export async function tokensOf(bases: readonly string[]): Promise<Tokens> {
  const samples: Sample[] = await Promise.all(bases.map(scrape));
  return {
    requested: samples.reduce((n, s) => n + (s.get('reward_tokens_total{kind="real"}') ?? 0), 0),
    computed: samples.reduce((n, s) => n + counterSum(s, 'reward_computed_tokens_total'), 0),
  };
}

/** Share of the tokens asked for between two readings that the network did not run. */
export const savedShare = (before: Tokens, after: Tokens): number =>
  1 - (after.computed - before.computed) / (after.requested - before.requested);

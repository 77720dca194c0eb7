// Per-level F1 as CodeScout computes it: an empty gold set scores 0 whatever was predicted, and an
// empty prediction scores 0.
import type { LevelScore } from './types.ts';

export function f1(predicted: Iterable<string>, gold: Iterable<string>): LevelScore {
  const pred = new Set(predicted);
  const truth = new Set(gold);
  if (truth.size === 0) return { precision: 0, recall: 0, f1: 0 };
  let hits = 0;
  for (const p of pred) if (truth.has(p)) hits++;
  const precision = pred.size ? hits / pred.size : 0;
  const recall = hits / truth.size;
  const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1: f };
}

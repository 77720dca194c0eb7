// Ranking of candidates by score, for best-of-N (/v1/rank) and rerank (/rerank, vLLM's rerank).

/** Indices of `scores`, highest first; equal scores keep input order (Array.prototype.sort is stable). */
export function rankIndices(scores: readonly number[]): number[] {
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
}

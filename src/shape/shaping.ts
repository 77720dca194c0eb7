// Reward shaping as CodeScaler trains with it: softplus keeps every valid program above 0 and every
// invalid one at exactly 0, so a policy can never earn more by emitting broken code.

export const SHAPINGS = ['softplus', 'none'] as const;
export type Shaping = (typeof SHAPINGS)[number];

/** log(1 + e^x) without overflow for large |x|. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Shaped reward; under softplus an invalid item is 0 whatever its logit (it need not have one). */
export function shapeReward(shaping: Shaping, valid: boolean, logit: number | null): number {
  if (shaping === 'softplus') return valid && logit !== null ? softplus(logit) : 0;
  if (logit === null) throw new Error('shaping "none" needs a logit for every item');
  return logit;
}

/** Whether an item must run through the model at all. */
export function needsModel(shaping: Shaping, valid: boolean): boolean {
  return shaping === 'none' || valid;
}

// Seeded random weights. Each tensor draws from its own stream, seeded from the
// model seed and the tensor's name, so a tensor's values do not depend on the
// order or number of the others.

import { type Qwen3Dims, type WeightKind, elementCount, weightShapes } from './config.ts';
import { mulberry32 } from '../mulberry32.ts';

export interface Weight {
  /** HF layout, e.g. [out_features, in_features] for a linear layer. */
  shape: number[];
  data: Float32Array;
}

/** HF parameter name → tensor. */
export type Weights = Map<string, Weight>;

const uniformStream = mulberry32;

/** FNV-1a over the name, mixed with the model seed. */
function tensorSeed(modelSeed: number, name: string): number {
  let hash = 0x811c9dc5 ^ Math.imul(modelSeed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Fills `out` with mean + std * N(0,1) samples (Box-Muller, both outputs used). */
function fillNormal(out: Float32Array, seed: number, mean: number, std: number): void {
  const uniform = uniformStream(seed);
  for (let i = 0; i < out.length; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - uniform())); // 1 - u lies in (0, 1]: log is finite
    const angle = 2 * Math.PI * uniform();
    out[i] = mean + std * radius * Math.cos(angle);
    if (i + 1 < out.length) out[i + 1] = mean + std * radius * Math.sin(angle);
  }
}

/**
 * Init scales chosen so every part of the network moves the logit: projections
 * keep activations near unit scale (std 1/sqrt(fan_in)), so attention and MLP
 * outputs are comparable to the residual stream; norm weights sit off 1 so a
 * missing or misplaced norm shows; the score head makes logits O(1).
 */
function initScale(kind: WeightKind, shape: readonly number[]): { mean: number; std: number } {
  const fanIn = shape[shape.length - 1];
  switch (kind) {
    case 'embedding':
      return { mean: 0, std: 1 };
    case 'projection':
      return { mean: 0, std: 1 / Math.sqrt(fanIn) };
    case 'norm':
      return { mean: 1, std: 0.1 };
    case 'score':
      return { mean: 0, std: 1 / Math.sqrt(fanIn) };
  }
}

export function generateWeights(dims: Qwen3Dims, seed: number): Weights {
  const weights: Weights = new Map();
  for (const { name, shape, kind } of weightShapes(dims)) {
    const data = new Float32Array(elementCount(shape));
    const { mean, std } = initScale(kind, shape);
    fillNormal(data, tensorSeed(seed, name), mean, std);
    weights.set(name, { shape, data });
  }
  return weights;
}

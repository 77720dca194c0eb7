// The model generator's API for other code (the bench, tests).
export { PRESETS, type PresetName, type Qwen3Dims, hfConfig, parameterCount, weightShapes } from './config.ts';
export { DEFAULT_SEED, type EnsureResult, type Generation, ensureModel, inspectModelDir, writeModel } from './model-dir.ts';
export { type ReferenceModel, loadReferenceModel, referenceForward } from './reference-forward.ts';
export { type PaddedBatch, onnxLogits, padRight } from './padded-batch.ts';

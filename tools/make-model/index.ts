// The model generator's API for other code (the bench, tests).
export { PRESETS, type PresetName, type Qwen3Dims, hfConfig, parameterCount, weightShapes } from './config.ts';
export { DEFAULT_SEED, type EnsureResult, type Generation, PAST_MODEL_FILE, ensureModel, inspectModelDir, writeModel } from './model-dir.ts';
export { type ReferenceModel, type ReferenceSequence, loadReferenceModel, referenceForward, referenceSequence } from './reference-forward.ts';
export { type PaddedBatch, onnxLogits, padRight } from './padded-batch.ts';
export { type KeyValues, type PastShape, emptyPast, runPast } from './past-run.ts';

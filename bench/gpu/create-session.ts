// Creates the session the service's model worker creates for MODEL_DIR (both graphs joined when
// model-past.onnx is there, the same session options) with ONNX Runtime's verbose log on, so that its
// "Node placements" lines show which provider got which nodes. bench/gpu/smoke.ts reads them.
//
//   npx tsx bench/gpu/create-session.ts MODEL_DIR cpu|cuda
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../../src/model/session-options.ts';
import { singleSessionModel } from '../../src/model/single-session.ts';

const [modelDir, provider] = process.argv.slice(2);
if (!modelDir || (provider !== 'cpu' && provider !== 'cuda')) throw new Error('usage: create-session.ts MODEL_DIR cpu|cuda');
const onnxPath = join(modelDir, 'model.onnx');
const pastPath = join(modelDir, 'model-past.onnx');
const verbose = { logSeverityLevel: 0, logVerbosityLevel: 0 } as const;
const session = existsSync(pastPath)
  ? await ort.InferenceSession.create(singleSessionModel(readFileSync(onnxPath), readFileSync(pastPath)), { ...sessionOptions(0, provider, { externalDataDir: modelDir }), ...verbose })
  : await ort.InferenceSession.create(onnxPath, { ...sessionOptions(0, provider), ...verbose });
console.log(`created on ${provider}: inputs ${session.inputNames.length}, outputs ${session.outputNames.join(',')}`);
await session.release();

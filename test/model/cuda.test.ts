// EXECUTION_PROVIDER=auto asks ONNX Runtime for CUDA only where the provider library and a driver are
// there; otherwise it runs on CPU and says which was missing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cudaUnavailableReason } from '../../src/model/cuda.ts';

describe('cudaUnavailableReason', { skip: process.platform !== 'linux' || process.arch !== 'x64' ? 'CUDA provider files exist for linux/x64 only' : false }, () => {
  const bin = mkdtempSync(join(tmpdir(), 'reward-ort-bin-'));
  const driver = join(bin, 'nvidia-version');
  after(() => rmSync(bin, { recursive: true, force: true }));

  it('names the missing CUDA provider library first', () => {
    assert.match(cudaUnavailableReason(bin, [driver])!, /CUDA provider is not installed \(no .*libonnxruntime_providers_cuda\.so; npm run setup:cuda installs it\)/);
  });
  it('with the library but no driver, names the driver files it looked for', () => {
    writeFileSync(join(bin, 'libonnxruntime_providers_cuda.so'), '');
    assert.equal(cudaUnavailableReason(bin, [driver]), `no NVIDIA driver found (none of ${driver})`);
  });
  it('with both, leaves the decision to ONNX Runtime', () => {
    writeFileSync(driver, '');
    assert.equal(cudaUnavailableReason(bin, [driver]), undefined);
  });
});

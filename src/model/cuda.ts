// Whether asking ONNX Runtime for CUDA can work here, answered from files alone. Asked and unable,
// ONNX Runtime logs a red "Failed to load library libonnxruntime_providers_shared.so" error of its
// own before it throws; EXECUTION_PROVIDER=auto checks first and says plainly why it chose the CPU.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where onnxruntime-node keeps its native libraries, the CUDA provider among them when installed. */
export function ortBinFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Why CUDA cannot start on this machine, or undefined when it may (ONNX Runtime then decides). */
export function cudaUnavailableReason(binFolder = ortBinFolder(), driverFiles = ['/proc/driver/nvidia/version', '/dev/nvidiactl']): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}`;
  const provider = join(binFolder, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(provider)) {
    return `onnxruntime-node's CUDA provider is not installed (no ${provider}; the Dockerfile installs it)`;
  }
  if (!driverFiles.some((f) => existsSync(f))) return `no NVIDIA driver found (none of ${driverFiles.join(', ')})`;
  return undefined;
}

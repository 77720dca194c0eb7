#!/usr/bin/env bash
# The CUDA path proved in one run of a few minutes, on a machine with an NVIDIA GPU, node 20 and the
# CUDA provider (npm run setup:cuda):
#
#   MODEL_DIR=/models/codescaler-1.7b-fp16 bash bench/gpu/smoke.sh
#
# What each step checks is in bench/gpu/smoke.ts. SMOKE_PROVIDER=cpu runs the same script on the CPU
# provider, skipping only the GPU lines (libraries, nvidia-smi, GroupQueryAttention placement, GPU
# memory); npm test does that on the demo model. Logs go to bench/out/gpu-smoke/.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec timeout "${SMOKE_TIMEOUT_S:-540}" node --import tsx bench/gpu/smoke.ts "$@"

#!/usr/bin/env bash
# Checks a GPU host for roberta-batch, in about a minute (docs/DEPLOY.md, "GPU check"):
# CUDA provider installed, a CUDA session on a roberta-base-sized model, CUDA logits equal to
# CPU logits, and throughput at batch 64. Usage, from the repository root:
#
#   ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js   # once, after npm ci: CUDA 12 provider libraries (~300 MB)
#   scripts/gpu-check.sh                          # --device cuda:0 --batch 64 --seq 128
#   scripts/gpu-check.sh --device cuda:1 --seq 512 --cpu-iterations 2
#   OUT=/tmp/out scripts/gpu-check.sh             # also writes /tmp/out/gpu-check.json
#
# Exit 0 when every check passed; 1 with E_CUDA_UNAVAILABLE and a hint when CUDA cannot load.
# Without a GPU, `scripts/gpu-check.sh --device cpu --preset tiny` runs the same steps on CPU.
# Next, the pipeline around that GPU (docs/DEPLOY.md, "GPU check"):
#   node bin/roberta-batch.mjs bench --only ceiling --ceiling-model base --worker-args "--device cuda:0"
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/worker/engine.js ]; then
  node scripts/build.mjs
fi
exec node scripts/gpu-check.mjs "$@"

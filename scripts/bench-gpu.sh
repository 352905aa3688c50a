#!/usr/bin/env bash
# The real-GPU run: on a machine with a GPU that Chromium can reach through Vulkan (an NVIDIA
# card with its driver), WebGPU inference of every runtime in bench/inference.mjs and the
# page's fine-tuning steps (scripts/bench-finetune.mjs), appended to BENCHMARKS.md with the
# card named. Run scripts/bench.sh first on the same machine (or copy its BENCHMARKS.md).
# Usage: scripts/bench-gpu.sh   (RUNS=20; CHROMIUM_FLAGS overrides the Vulkan flags)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
need_debs chromium libvulkan1
need_web_tools
[ -d "$BENCH_SITE/ours" ] || build_bench_site
[ -f dist/index.html ] || trunk_wasm build --release
export CHROMIUM_FLAGS="${CHROMIUM_FLAGS:---use-angle=vulkan --enable-features=Vulkan,VulkanFromANGLE --ignore-gpu-blocklist --use-vulkan=native}"
GPU_NAME="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)"
export GPU_NAME="${GPU_NAME:-$(vulkaninfo --summary 2>/dev/null | awk -F= '/deviceName/ { print $2; exit }' | xargs)}"
out="$(mktemp)"
{
  echo
  echo "## On a real GPU: $GPU_NAME"
  echo
  echo "\`scripts/bench-gpu.sh\` on $(date -u +%Y-%m-%d): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores,"
  echo "$(chromium --version 2>/dev/null | head -1) with \`$CHROMIUM_FLAGS\`. WebGPU runtimes only."
  ONLY=burn-webgpu,ort-webgpu,tfjs-webgpu node bench/inference.mjs "$BENCH_SITE" efficientnet-lite0 seed-cnn
  echo
  echo "Fine-tuning in the page on WebGPU (the default model, demo set, batch 16, three steps per run):"
  echo
  BACKENDS=webgpu node scripts/bench-finetune.mjs
} | tee "$out"
cat "$out" >> BENCHMARKS.md
echo "appended to BENCHMARKS.md"

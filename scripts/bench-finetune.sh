#!/usr/bin/env bash
# Fine-tuning throughput in headless Chromium (WebGPU and CPU; head only and whole network).
# Usage: scripts/bench-finetune.sh   (builds dist/ first when it is missing;
# BATCHES=N steps per run, BATCH_SIZE=N, CHROMIUM_FLAGS="..." for a real GPU)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
need_debs chromium
need_web_tools
[ -f dist/index.html ] || trunk_wasm build --release
node scripts/bench-finetune.mjs
printf '\nmachine: %s, %s cores; %s; %s\n' "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(chromium --version 2>/dev/null || echo chromium)"

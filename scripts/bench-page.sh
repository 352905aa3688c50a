#!/usr/bin/env bash
# Page benchmark (release build in headless Chromium): wasm and weight bytes (raw and gzip),
# cold load → first prediction, and median inference time over 20 runs after a warm-up on
# WebGPU (SwiftShader without a GPU) and on the CPU backend. Prints Markdown tables.
# Usage: scripts/bench-page.sh   (builds dist/ first when it is missing; RUNS=N to change 20)
set -euo pipefail
source "$(dirname "$0")/tools.sh"
need_debs chromium
need_web_tools
[ -f dist/index.html ] || trunk_wasm build --release
printf '| file | raw | gzip |\n|---|---|---|\n'
node scripts/bench-page.mjs
printf '\nmachine: %s, %s cores; %s; %s\n' "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(chromium --version 2>/dev/null || echo chromium)"

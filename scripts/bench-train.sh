#!/usr/bin/env bash
# Release-build CNN training throughput of the shared training step, batch 32, on the CPU
# backends (flex and ndarray) and on wgpu (a real GPU, or Mesa's software Vulkan), with peak memory.
# Usage: scripts/bench-train.sh [DATA_DIR] [STEPS]
set -euo pipefail
source "$(dirname "$0")/tools.sh"
data="${1:-../shared/data/bone-break}"
steps="${2:-6}"
cargo bench --locked --bench train_throughput --no-run >&2
rows=()
for backend in flex cpu wgpu; do
  rows+=("$(cargo bench --locked --bench train_throughput -q -- "$backend" --data "$data" --steps "$steps")")
done
printf '\n%-8s %6s %6s %12s %12s %16s\n' backend batch steps "images/s" "ms/step" "peak RSS (MiB)"
for row in "${rows[@]}"; do
  IFS=$'\t' read -r b n s ips ms mem <<<"$row"
  printf '%-8s %6s %6s %12s %12s %16s\n' "$b" "$n" "$s" "$ips" "$ms" "$mem"
done
printf '\nmachine: %s, %s cores; %s\n' "$(uname -m)" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

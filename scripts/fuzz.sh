#!/usr/bin/env bash
# Fuzzes the X-ray decoders with cargo fuzz (libFuzzer): both targets side by side for SECONDS
# (default 600), then minimises each corpus. New inputs land in fuzz/corpus/<target>/; a crash
# is copied to fuzz/regressions/<target>/, where `cargo test --test fuzz_regressions` replays it.
# Needs a nightly toolchain (rustup toolchain install nightly); installs cargo-fuzz if missing.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
source "$(dirname "$0")/tools.sh"
seconds="${1:-600}"
# Instrumented builds of their own, apart from the test builds.
export CARGO_TARGET_DIR="$HOME/.cache/bone-fracture/target-fuzz"
cargo +nightly --version >/dev/null 2>&1 || { echo "cargo fuzz needs a nightly toolchain: rustup toolchain install nightly"; exit 1; }
command -v cargo-fuzz >/dev/null || { step "installing cargo-fuzz"; cargo install cargo-fuzz --locked; }

declare -A seeds=(
  [decode_image]="fuzz/seeds/decode_image tests/fixtures/odd"
  [decode_dicom]="fuzz/seeds/decode_dicom"
)
mkdir -p fuzz/artifacts
step "building the fuzz targets"
cargo +nightly fuzz build --release
pids=()
for target in "${!seeds[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/regressions/$target"
  step "fuzzing $target for $seconds s"
  # shellcheck disable=SC2086
  cargo +nightly fuzz run --release "$target" "fuzz/corpus/$target" ${seeds[$target]} -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    >"fuzz/artifacts/$target.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

step "summary"
printf '| target | runs | seconds | corpus files | crashes |\n|---|---|---|---|---|\n'
for target in "${!seeds[@]}"; do
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "fuzz/artifacts/$target.log" | grep -oE '[0-9]+$' || echo "?")
  crashes=0
  for crash in fuzz/artifacts/"$target"/crash-* fuzz/artifacts/"$target"/oom-* fuzz/artifacts/"$target"/timeout-*; do
    [ -e "$crash" ] || continue
    cp "$crash" "fuzz/regressions/$target/"
    crashes=$((crashes + 1))
  done
  cargo +nightly fuzz cmin --release "$target" "fuzz/corpus/$target" >>"fuzz/artifacts/$target.log" 2>&1 || true
  printf '| %s | %s | %s | %s | %s |\n' "$target" "$runs" "$seconds" "$(ls "fuzz/corpus/$target" | wc -l)" "$crashes"
done
exit $status

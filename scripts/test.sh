#!/usr/bin/env bash
# Runs every test, installing whatever is missing first: the native suite (CPU backend and
# wgpu on Mesa's software Vulkan), the release Trunk build of the page, and the end-to-end
# tests in headless Chromium (the peers' output-equivalence check of the benchmarks among them). Ends with each runner's summary line.
set -euo pipefail
source "$(dirname "$0")/tools.sh"

need_debs chromium chromium-driver mesa-vulkan-drivers libvulkan1
need_web_tools
need_imagenet_weights

summary=()
# The page builds in the background while the native tests build and run.
rm -rf dist
trunk_log="$WASM_TARGET_DIR/trunk-build.log"
mkdir -p "$WASM_TARGET_DIR"
trunk_wasm build --release >"$trunk_log" 2>&1 &
trunk_pid=$!

step "formatting (cargo fmt --check, rustfmt.toml)"
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --check
  summary+=("fmt: clean")
else
  summary+=("fmt: not checked (rustfmt is not installed)")
fi

step "native tests (cargo test --release)"
cargo test --release --locked 2>&1 | tee "$CARGO_TARGET_DIR/native-tests.log"
summary+=("native: $(grep -E '^test result:' "$CARGO_TARGET_DIR/native-tests.log" | awk '{p+=$4; f+=$6} END {print p" passed, "f" failed"}')")

# The inference benchmark's site: its equivalence test (tests/e2e/peers.test.mjs) runs the
# exported network in ONNX Runtime Web and TensorFlow.js next to this project's wasm.
build_bench_site

step "release build of the page (trunk build --release)"
if ! wait "$trunk_pid"; then cat "$trunk_log"; echo "trunk build failed"; exit 1; fi
tail -n 3 "$trunk_log"
test -f dist/index.html && ls dist/*.wasm >/dev/null
summary+=("trunk: dist/ built ($(du -ch dist/*.wasm | tail -1 | cut -f1) of wasm)")

step "end-to-end tests in headless Chromium"
node --test --test-reporter=spec tests/e2e/ 2>&1 | tee "$CARGO_TARGET_DIR/e2e-tests.log"
summary+=("e2e: $(grep -E '^ℹ (pass|fail) ' "$CARGO_TARGET_DIR/e2e-tests.log" | awk '{printf "%s %s  ", $3, $2}')")

step "summary"
printf '%s\n' "${summary[@]}"

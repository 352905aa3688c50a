#!/usr/bin/env bash
# Builds the page (release, wasm-opt) and serves it at http://127.0.0.1:8080,
# installing whatever is missing first. Extra arguments go to `trunk serve`.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
need_web_tools
step "building and serving at http://127.0.0.1:8080"
CARGO_TARGET_DIR="$WASM_TARGET_DIR" exec trunk serve --release --no-autoreload "$@"

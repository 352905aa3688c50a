#!/usr/bin/env bash
# Reproduces public/models/ from the data: the seed CNN on the group split (the shipped
# weights), the CNN on the notebook's random split and the MLP on both (metrics only), both
# in 5-fold cross-validation (README figures; both also in the seed CNN's card), then
# gathers their metrics into public/models/seed-cnn/model.json; then EfficientNet-Lite0 from
# ImageNet weights (the default model: the soup of two runs), their 5-fold cross-validations,
# and index.json;
# last, gallery.json and public/gallery/ for the page's analysis views.
# Usage: scripts/train-shipped.sh [DATA_DIR] [BACKEND]   (BACKEND: flex (default), cpu, wgpu)
# One run at a time: the flex backend already uses every core.
set -euo pipefail
source "$(dirname "$0")/tools.sh"
data="${1:-../shared/data/bone-break}"
backend="${2:-flex}"
need_imagenet_weights
cargo build --release --locked --bin fracture
fracture="$CARGO_TARGET_DIR/release/fracture"
mkdir -p runs
train() { "$fracture" train --data "$data" --backend "$backend" "$@"; }
train --model cnn --split group --out public/models/seed-cnn 2>runs/seed-cnn-group.log
train --model cnn --split random --out runs/seed-cnn-random --no-weights 2>runs/seed-cnn-random.log
train --model mlp --split group --out runs/mlp-group --no-weights 2>runs/mlp-group.log
train --model mlp --split random --out runs/mlp-random --no-weights 2>runs/mlp-random.log
# The seed CNN's cross-validation (its card's "Cross-validation" table; 71 minutes here).
"$fracture" cv --model cnn --data "$data" --backend "$backend" --out runs/cv-seed-cnn 2>runs/cv-seed-cnn.log
# The MLP's cross-validation (README, "The reference notebook's models"; 55 minutes here), on
# the same folds: the seed CNN's card compares the two (and the default model's card, all three).
"$fracture" cv --model mlp --data "$data" --backend "$backend" --out runs/cv-mlp 2>runs/cv-mlp.log
"$fracture" publish --model public/models/seed-cnn --runs runs/seed-cnn-random runs/mlp-group runs/mlp-random \
  runs/cv-mlp --cv runs/cv-seed-cnn/cv.json --index public/models/index.json
# The transfer-learning recipe chosen by cross-validation (README, "Results"), run twice: with
# the stem and first 11 ImageNet blocks frozen, and with 10. The default model is the soup of
# the two (their weights averaged: one model, one pass per view).
efficientnet=(--model efficientnet --augment --cache-views 8 --label-smoothing 0.1
  --epochs 20 --weight-average 0.99 --keep last)
for frozen in 11 10; do
  train "${efficientnet[@]}" --frozen-blocks "$frozen" --split group --out "runs/efficientnet-f$frozen-group" \
    2>"runs/efficientnet-f$frozen-group.log"
  "$fracture" cv "${efficientnet[@]}" --frozen-blocks "$frozen" --data "$data" --backend "$backend" \
    --out "runs/cv-efficientnet-f$frozen" 2>"runs/cv-efficientnet-f$frozen.log"
done
"$fracture" soup --models runs/efficientnet-f11-group runs/efficientnet-f10-group --data "$data" --backend "$backend" \
  --out public/models/efficientnet-lite0
# The seed-comparable figure: the 11-frozen run on the notebook's random split (metrics only).
train "${efficientnet[@]}" --frozen-blocks 11 --split random --out runs/efficientnet-random --no-weights \
  2>runs/efficientnet-random.log
# The soup's answers averaged over 8 test-time views, as cross-validation chose (README): its
# fold soups scored so (the page's own views, temperature fitted on the inner images' means),
# and the shipped model's group-split scores and temperature measured again so.
"$fracture" combine --runs runs/cv-efficientnet-f11 runs/cv-efficientnet-f10 --soup --data "$data" --views 8 \
  --backend "$backend" --out runs/cv-soup 2>runs/cv-soup.log
"$fracture" views --model public/models/efficientnet-lite0 --data "$data" --views 8 --backend "$backend"
"$fracture" publish --model public/models/efficientnet-lite0 --runs runs/efficientnet-random public/models/seed-cnn \
  --cv runs/cv-soup/soup.json --cv-views runs/cv-soup/views.json \
  --index public/models/index.json --default efficientnet-lite0
# The analysis views' thumbnails and each shipped model's answers on its validation images.
for model in seed-cnn efficientnet-lite0; do
  "$fracture" gallery --model "public/models/$model" --data "$data" --backend "$backend"
done

#!/usr/bin/env bash
# Copies one sample X-ray per class into public/samples/<slug>.jpg: the first validation image of
# each class in the shipped model's split.csv (so the model never trained on it, nor on a
# near-copy of it). Usage: scripts/pick-samples.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/bone-break}"
split=public/models/seed-cnn/split.csv
slug() { echo "$1" | tr 'A-Z' 'a-z' | sed -e 's/ fracture$//' -e 's/ /-/g'; }
mkdir -p public/samples
: > public/samples/SOURCES.txt
awk -F, '$1 == "valid" && !seen[$2]++ { print $2 "," $3 }' "$split" | while IFS=, read -r class file; do
  cp "$data/$class/$file" "public/samples/$(slug "$class").jpg"
  echo "$(slug "$class").jpg  <-  $class/$file" >> public/samples/SOURCES.txt
done
cat >> public/samples/SOURCES.txt <<'CREDIT'

Images: Bone Break Classification Image Dataset (Kaggle, uploader pkdarabi; a Roboflow export,
workspace curso-rphcb), licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
CREDIT

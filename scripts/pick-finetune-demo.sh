#!/usr/bin/env bash
# Copies the shipped model's validation images (split.csv: images it never trained on, nor on a
# near-copy of them) into public/finetune-demo/<slug>/, with a manifest.csv that keeps their
# near-duplicate groups, for the page's one-click fine-tuning demo. The folder is also a valid
# `--data` folder for `fracture finetune`. Usage: scripts/pick-finetune-demo.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/data/bone-break}"
split=public/models/seed-cnn/split.csv
out=public/finetune-demo
slug() { echo "$1" | tr 'A-Z' 'a-z' | sed -e 's/ fracture$//' -e 's/ /-/g'; }
rm -rf "$out"
mkdir -p "$out"
echo "class,file,group" > "$out/manifest.csv"
awk -F, '$1 == "valid" { print $2 "," $3 "," $4 }' "$split" | while IFS=, read -r class file group; do
  mkdir -p "$out/$(slug "$class")"
  cp "$data/$class/$file" "$out/$(slug "$class")/$file"
  echo "$(slug "$class"),$file,$group" >> "$out/manifest.csv"
done
cat > "$out/SOURCES.txt" <<'CREDIT'
The images in these folders are the shipped seed CNN's validation images (see
public/models/seed-cnn/split.csv), copied by scripts/pick-finetune-demo.sh.

Images: Bone Break Classification Image Dataset (Kaggle, uploader pkdarabi; a Roboflow export,
workspace curso-rphcb), licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
CREDIT

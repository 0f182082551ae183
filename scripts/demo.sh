#!/usr/bin/env bash
# The README's main command (`make demo`): the whole method on the built-in synthetic benchmark.
#   1. generate the small synthetic micro-gesture benchmark and its contact sheet
#   2. unimodal pre-training: pose-only (the CPU pose recipe: heatmap pathway + coordinate
#      stream) and RGB-only (frame differences)
#   3. merged initialisation, then the two-stream model with fusion + prototypes (the paper;
#      RGB, heatmaps and coordinates fused 1:1:1)
#   4. test all three on the test split, print the ablation table, write the report
#   5. the paper's three-model ensemble: + a small Video Swin (RGB) and an ST-GCN++ trained with
#      the JSE loss, fused with weights searched on val, applied to test
#   6. stitch test clips of one subject into an "interview" and predict its timeline
set -euo pipefail
BIN=${1:-.venv/bin}
WORK=${2:-work}
M="$BIN/mgproto"
DATA="$WORK/synthetic/small"
RUNS="$WORK/runs"
start=$(date +%s)

if [ ! -f "$DATA/annotations.pkl" ]; then
  "$M" synth --size small --out "$DATA" --preview
fi
rm -rf "$RUNS/pose_only" "$RUNS/rgb_only" "$RUNS/paper" "$RUNS/init.pt" "$RUNS/swin" \
  "$RUNS/gcn_jse" "$RUNS"/ensemble3.*
SET=(--set "data.annotations=$DATA/annotations.pkl")
"$M" train configs/synthetic/pose_only.yaml --run-dir "$RUNS/pose_only" "${SET[@]}"
"$M" train configs/synthetic/rgb_only.yaml --run-dir "$RUNS/rgb_only" "${SET[@]}"
"$M" merge-init --rgb "$RUNS/rgb_only" --pose "$RUNS/pose_only" -o "$RUNS/init.pt" \
  --config configs/synthetic/paper.yaml "${SET[@]}"
"$M" train configs/synthetic/paper.yaml --run-dir "$RUNS/paper" --init "$RUNS/init.pt" "${SET[@]}"
echo
echo "Ablation on the synthetic test split (clips: $(grep -c . "$DATA/lists/test.txt")):"
"$M" compare "$RUNS/pose_only" "$RUNS/rgb_only" "$RUNS/paper" --split test
"$M" report "$RUNS/paper" --split test
echo
echo "The paper's three-model ensemble: + Video Swin (RGB) + a JSE skeleton model (ST-GCN++):"
"$M" train configs/synthetic/swin.yaml --run-dir "$RUNS/swin" "${SET[@]}"
"$M" train configs/synthetic/gcn_joint_jse.yaml --run-dir "$RUNS/gcn_jse" "${SET[@]}"
VAL=() TEST=()
for run in paper swin gcn_jse; do
  for split in val test; do "$M" test "$RUNS/$run" --split "$split" > "$RUNS/$run/test_$split.log"; done
  VAL+=("$RUNS/$run/test_val/scores.npz") TEST+=("$RUNS/$run/test_test/scores.npz")
done
"$M" ensemble --val "${VAL[@]}" --test "${TEST[@]}" -o "$RUNS/ensemble3.npz"
echo
echo "Timeline of a stitched synthetic interview (6 test clips of one subject):"
"$M" stitch "$DATA/annotations.pkl" -o "$WORK/interview" --num-clips 6
"$M" predict "$WORK/interview/video.mp4" --pose "$WORK/interview/pose.pkl" \
  --checkpoint "$RUNS/paper/checkpoints/best.pt" --truth "$WORK/interview/truth.csv" \
  -o "$WORK/interview/timeline"
echo "contact sheet: $DATA/preview.png; report: $RUNS/paper/report/index.html"
echo "timeline: $WORK/interview/timeline/index.html"
echo "demo finished in $(( $(date +%s) - start )) s"

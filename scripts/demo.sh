#!/usr/bin/env bash
# The README's main command (`make demo`): runs the project's main job end to end.
set -euo pipefail
BIN=${1:-.venv/bin}
WORK=${2:-work}
mkdir -p "$WORK"
SHARED=${MGPROTO_SHARED:-../shared}
if [ -f "$SHARED/data/utkinect/actionLabel.txt" ]; then
  "$BIN/mgproto" convert utkinect "$SHARED/data/utkinect" -o "$WORK/utkinect.pkl"
  "$BIN/mgproto" inspect "$WORK/utkinect.pkl"
  "$BIN/mgproto" preview-pose "$WORK/utkinect.pkl" -o "$WORK/utkinect_preview.png"
else
  echo "real-data fixture not found at $SHARED/data/utkinect; skipping the UTKinect step"
fi

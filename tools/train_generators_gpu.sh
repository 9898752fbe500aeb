#!/usr/bin/env bash
# Train GAN runs side by side on one CUDA GPU, each into its own folder, and pack each folder.
#
#   ADVLAB_DATA_DIR=/path/to/data tools/train_generators_gpu.sh OUT_DIR 'LABEL NAME [OPTIONS]'...
#
# e.g. tools/train_generators_gpu.sh out 'cond-ac dcgan-mnist-cond --set classifier=true'
#
# Run from the repository root. Needs python3 (or $PYTHON) with torch, torchvision, safetensors,
# numpy and pillow, and also pydantic + pydantic-settings (the settings and the manifest): where
# those are missing, set ADVLAB_WHEELS to a folder of their wheels and they are installed offline
# into a temporary folder for this run.
#
# Data: ADVLAB_DATA_DIR holds MNIST/raw/ with the four uncompressed idx files (the layout of
# `advlab data`). Alternatively set ADVLAB_MNIST_GZ to a folder holding mnist/*-ubyte.gz (like
# ../shared/data) and they are unpacked into ADVLAB_DATA_DIR first.
#
# Each run is `advlab train NAME OPTIONS --out var/runs/LABEL`: its weights, its own manifest.json
# (the entry `advlab train` would record, figures included) and its log land there, and
# OUT_DIR/LABEL.tar holds them (not the checkpoint). To adopt a run, unpack its tar and copy the
# weights into models/ and its manifest entry into models/manifest.json (tools/adopt_run.py).
# ADVLAB_RUN_TIMEOUT (seconds) ends any run still going after that long (it then leaves no tar).
# The runs go in parallel because each keeps one CPU core busy launching small kernels and leaves
# the GPU mostly idle. The judges the figures need (mnist-cnn, mnist-judge) are read from models/.
set -euo pipefail
out=${1:?usage: ADVLAB_DATA_DIR=/path/to/data tools/train_generators_gpu.sh OUT_DIR 'LABEL NAME [OPTIONS]'...}
shift
python=${PYTHON:-python3}
: "${ADVLAB_DATA_DIR:?set ADVLAB_DATA_DIR to the folder that holds (or will hold) MNIST/raw/}"
export ADVLAB_DATA_DIR ADVLAB_DEVICE=${ADVLAB_DEVICE:-cuda} PYTHONUNBUFFERED=1
mkdir -p "$out"
log="$out/train.log"
: >"$log"

if [ -n "${ADVLAB_WHEELS:-}" ]; then
  site=$(mktemp -d)
  "$python" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$ADVLAB_WHEELS"/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
if [ -n "${ADVLAB_MNIST_GZ:-}" ]; then
  "$python" -m app.cli data --from "$ADVLAB_MNIST_GZ" 2>&1 | tee -a "$log"
fi
if [ "$ADVLAB_DEVICE" = cuda ]; then
  "$python" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU"; print("torch", torch.__version__, torch.cuda.get_device_name())' 2>&1 | tee -a "$log"
fi

SECONDS=0
pids=()
labels=()
for run in "$@"; do
  read -r label name options <<<"$run"
  mkdir -p "var/runs/$label"
  # shellcheck disable=SC2086 # the options are words on purpose
  (set -o pipefail; timeout "${ADVLAB_RUN_TIMEOUT:-0}" "$python" -m app.cli train "$name" $options --out "var/runs/$label" 2>&1 \
     | sed -u "s/^/[$label] /" | tee "var/runs/$label/train.log" >>"$log") &
  pids+=($!)
  labels+=("$label")
done
failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    tar -C var/runs -cf "$out/${labels[$i]}.tar" --exclude='*checkpoint.pt' "${labels[$i]}"
  else
    failed=1
    echo "[${labels[$i]}] failed" | tee -a "$log"
  fi
done
echo "all done after ${SECONDS} s (failed: $failed)" | tee -a "$log"
grep -E "samples with p >= 0.9|agree|Fréchet|took|test accuracy" "$log" | grep -vE "epoch [0-9]+/[0-9]+ took" || true
exit "$failed"

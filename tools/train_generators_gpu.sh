#!/usr/bin/env bash
# Train mnist-judge, then dcgan-mnist and dcgan-mnist-cond side by side, on one CUDA GPU.
#
#   ADVLAB_DATA_DIR=/path/to/data tools/train_generators_gpu.sh OUT_DIR
#
# Run from the repository root. Needs python3 (or $PYTHON) with torch, torchvision, safetensors,
# numpy and pillow, and also pydantic + pydantic-settings (the settings and the manifest): where
# those are missing, set ADVLAB_WHEELS to a folder of their wheels and they are installed offline
# into a temporary folder for this run (see the list in the issue notes / the hand-over).
#
# Data: ADVLAB_DATA_DIR holds MNIST/raw/ with the four uncompressed idx files (the layout of
# `advlab data`). Alternatively set ADVLAB_MNIST_GZ to a folder holding mnist/*-ubyte.gz (like
# ../shared/data) and they are unpacked into ADVLAB_DATA_DIR first.
#
# Writes the weights into models/ and their entries into models/manifest.json (as `advlab train`
# does), checkpoints into var/train/NAME/, then copies the new weights, the manifest and one log,
# train.log (the GANs' lines prefixed with their names), into OUT_DIR: 7 files. The GANs run in
# parallel because each keeps one CPU core busy launching small kernels and leaves the GPU mostly
# idle; on an H200 the whole script takes about 7 minutes.
set -euo pipefail
out=${1:?usage: ADVLAB_DATA_DIR=/path/to/data tools/train_generators_gpu.sh OUT_DIR}
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
"$python" -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU"; print("torch", torch.__version__, torch.cuda.get_device_name())' 2>&1 | tee -a "$log"

SECONDS=0
# the GANs' measurements load mnist-judge from models/, so it comes first
"$python" -m app.cli train mnist-judge 2>&1 | sed -u 's/^/[mnist-judge] /' | tee -a "$log"
echo "mnist-judge done after ${SECONDS} s" | tee -a "$log"

pids=()
for name in dcgan-mnist dcgan-mnist-cond; do
  (set -o pipefail; "$python" -m app.cli train "$name" 2>&1 | sed -u "s/^/[$name] /" >>"$log") &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
echo "all done after ${SECONDS} s (failed: $failed)" | tee -a "$log"

cp models/manifest.json models/mnist-judge.safetensors models/dcgan-mnist-generator.safetensors \
  models/dcgan-mnist-discriminator.safetensors models/dcgan-mnist-cond-generator.safetensors \
  models/dcgan-mnist-cond-discriminator.safetensors "$out"/ || failed=1
grep -E "test accuracy|samples with p >= 0.9|agree|Fréchet|took" "$log" | grep -vE "epoch [0-9]+/[0-9]+ took" | tail -n 20 || true
exit "$failed"

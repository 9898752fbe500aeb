#!/usr/bin/env bash
# Serve the app on a CUDA GPU and use it over HTTP: health (which device), an FGSM attack, a
# sweep, GAN samples and two pages. Exits non-zero on the first answer that is not what it should be.
#
#   tools/check_cuda_serving.sh [PORT]
#
# Needs the app's Python dependencies (ADVLAB_WHEELS: a folder of wheels installed offline first).
set -euo pipefail
port=${1:-8765}
python=${PYTHON:-python3}
if [ -n "${ADVLAB_WHEELS:-}" ]; then
  site=$(mktemp -d)
  "$python" -m pip install -q --no-index --no-deps --no-compile --target "$site" "$ADVLAB_WHEELS"/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export ADVLAB_DEVICE=cuda PYTHONUNBUFFERED=1
"$python" -m app.cli serve --port "$port" >var/serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 120); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat var/serve.log; exit 1; }
  sleep 1
done
post() { curl -sf -w ' [%{http_code} in %{time_total} s]\n' -H 'content-type: application/json' -d "$2" "$base$1"; }
curl -sf "$base/healthz" | tee /dev/stderr | grep -q '"device":"cuda' || { echo "not serving on CUDA"; exit 1; }
echo
post /api/v1/attacks/fgsm '{"model":"mnist-cnn","image":"sample:mnist-00010","params":{"eps":0.2}}' | cut -c1-300
post /api/v1/attacks/pgd '{"model":"mnist-cnn","image":"sample:mnist-00010","target":3,"params":{"eps":0.3}}' | cut -c1-300
post /api/v1/attacks/fgsm/sweep '{"model":"mnist-cnn","image":"sample:mnist-00010","eps":[0,0.1,0.2,0.3]}' | cut -c1-200
post /api/v1/generators/dcgan-mnist/samples '{"seed":1,"count":8}' | cut -c1-200
post /api/v1/generators/dcgan-faces/samples '{"seed":1,"count":8}' | cut -c1-200
curl -sf -o /dev/null -w 'GET /attack %{http_code}\n' "$base/attack"
curl -sf -o /dev/null -w 'GET /gan %{http_code}\n' "$base/gan"
echo "serving on CUDA: ok"

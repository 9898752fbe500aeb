# AdvLab. CPU by default:
#   docker build -t advlab .
# CUDA: a CUDA runtime base and PyTorch's CUDA wheels, e.g.
#   docker build -t advlab:cuda --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 .
#   docker run --gpus all -p 8000:8000 advlab:cuda
ARG BASE=python:3.11-slim

# htmx, Swagger UI and ReDoc, pinned by package-lock.json
FROM node:20-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
# Only files are copied out of node_modules, so no install scripts run (one would report telemetry).
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM ${BASE}
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEBIAN_FRONTEND=noninteractive

# CUDA base images come without Python; python:* images already have it.
RUN if ! command -v python3 >/dev/null 2>&1; then \
        apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# PyTorch first (the big layer), from the index that matches the base: CPU or CUDA wheels.
RUN pip install --index-url "${TORCH_INDEX}" torch torchvision

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY models ./models
COPY gallery ./gallery
COPY --from=frontend /build/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
COPY --from=frontend /build/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
                     /build/node_modules/swagger-ui-dist/swagger-ui.css \
                     /build/node_modules/redoc/bundles/redoc.standalone.js ./static/vendor/
# Editable: the app finds templates/, static/, models/ and gallery/ beside app/.
RUN pip install -e . \
    && useradd --create-home --uid 10001 advlab \
    && mkdir -p /app/var /data \
    && chown advlab /app/var /data

USER advlab
ENV ADVLAB_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["advlab", "serve", "--host", "0.0.0.0", "--port", "8000"]

# Two commands on a fresh machine:  `make run` (the app on http://127.0.0.1:8000)  and  `make test`.
# Both create .venv, install the Python packages and the pinned htmx; `make test` also installs
# Debian's Chromium (for the browser tests) and prepares MNIST / Fashion-MNIST from ../shared/data.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SHARED ?= ../shared
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

# Machines without internet use the ImageNet weights in ../shared instead of torchvision's download.
SQUEEZENET_FILE := $(SHARED)/weights/squeezenet1_1_caffe_imagenetnorm.pth
ifneq ($(wildcard $(SQUEEZENET_FILE)),)
export ADVLAB_LOCAL_WEIGHTS ?= imagenet-squeezenet=$(abspath $(SQUEEZENET_FILE))
endif

.PHONY: run test audit lint setup browser data bench bench-attacks bench-autoattack bench-sweep bench-lecture bench-gan bench-gan-faces attack-eval clean

run: setup data
	$(BIN)/advlab serve --host $(HOST) --port $(PORT)

test: setup browser data audit lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check app tests benchmarks tools
	$(BIN)/ruff format --check app tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python tools/docs_tables.py --check

# pip-audit over the installed packages: a known vulnerability fails the build; when PyPI's
# vulnerability data cannot be reached, a WARNING says what was not audited and the tests go on.
audit: setup
	$(BIN)/python tools/audit_packages.py

bench: setup data
	$(BIN)/python benchmarks/startup_classify.py

bench-attacks: setup data
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/pip install --quiet --no-deps 'torchattacks==3.5.1'
	$(BIN)/python benchmarks/attacks.py

# Our APGD-CE + APGD-T (advlab eval --autoattack) against torchattacks' on the same images.
bench-autoattack: setup data
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/pip install --quiet --no-deps 'torchattacks==3.5.1'
	$(BIN)/python benchmarks/autoattack_reference.py

bench-sweep: setup data
	$(BIN)/python benchmarks/sweep.py

# A lecture of 300 students, and FGSM throughput with batching on and off (wrk, from Debian).
bench-lecture: setup data
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/lecture.py

bench-gan: setup data
	$(BIN)/python benchmarks/gan.py

bench-gan-faces: setup data
	$(BIN)/python benchmarks/gan_lecture_example.py

attack-eval: setup data
	$(BIN)/python benchmarks/attack_success.py

VENDOR := static/vendor/htmx.min.js static/vendor/swagger-ui-bundle.js static/vendor/swagger-ui.css \
          static/vendor/redoc.standalone.js

setup: $(VENV)/.installed $(VENDOR)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# Swagger UI (/docs) and ReDoc (/redoc), served from here rather than from a CDN
static/vendor/swagger-ui-bundle.js static/vendor/swagger-ui.css: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/swagger-ui-dist/$(notdir $@) $@

static/vendor/redoc.standalone.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/redoc/bundles/redoc.standalone.js $@

# Debian's Chromium for Playwright (never a browser download of Playwright's own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

data: setup
	@if [ -d "$(SHARED)/data" ]; then $(BIN)/advlab data --from "$(SHARED)/data"; \
	else echo "no $(SHARED)/data: run '$(BIN)/advlab data --download' on a machine with internet"; fi

clean:
	rm -rf $(VENV) node_modules static/vendor var

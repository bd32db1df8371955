# Every target bootstraps .venv itself: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD_STAMP := $(VENV)/.installed-build

.PHONY: run test bench lint setup clean screenshots build smoke postgresql

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

$(BUILD_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,build]"
	touch $(BUILD_STAMP)

setup: $(STAMP)

# Qt's system libraries (xcb, OpenGL, fonts) are not in PySide6's wheels: installed with
# apt on Debian when missing, or named in French for other systems (tools/qt_system_libs.py).
run: $(STAMP)
	$(PY) tools/qt_system_libs.py --install
	$(VENV)/bin/comptoir $(ARGS)

# The ledger suite also runs on a throwaway PostgreSQL server that the tests start with
# Debian's binaries (tests/pg.py): install the package when initdb is missing.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends postgresql; }

# The suite, then the desktop bundle built and started without Python (installer/).
test: $(STAMP) postgresql
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n 2 $(PYTEST_ARGS)
	$(MAKE) build
	$(MAKE) smoke

# dist/comptoir/: the one-folder application (installer/README.md). On Linux, PyInstaller
# reads and writes the executables with binutils (objdump, objcopy).
build: $(BUILD_STAMP)
	[ "$$(uname)" != Linux ] || command -v objcopy >/dev/null \
		|| (apt-get update -q && apt-get install -y -q binutils)
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build \
		installer/comptoir.spec

smoke:
	bash installer/smoke.sh dist/comptoir

bench: $(STAMP)
	$(PY) -m benchmarks $(BENCH_ARGS)

screenshots: $(STAMP)
	command -v pdftoppm >/dev/null || (apt-get update -q && apt-get install -y -q poppler-utils)
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshots.py docs/screenshots
	QT_QPA_PLATFORM=offscreen $(PY) tools/backoffice_screenshots.py docs/screenshots

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests benchmarks tools
	$(VENV)/bin/ruff format --check app tests benchmarks tools
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

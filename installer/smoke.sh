#!/usr/bin/env bash
# Smoke test of the built application: installer/smoke.sh [dist/comptoir]
#
# The bundle runs in a clean environment (env -i): no PATH to any Python, no PYTHONPATH,
# a throw-away data folder and no OS keyring, Qt offscreen. Python is used only to
# prepare an older ledger for the upgrade check, never to run Comptoir.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/dist/comptoir}" 2>/dev/null && pwd)" || {
    echo "smoke: no bundle at ${1:-dist/comptoir}; run 'make build' first" >&2
    exit 2
}
BIN="$BUNDLE/comptoir"
PY="${PY:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/comptoir-smoke.XXXXXX")"
DATA="$WORK/data"
GUI_PID=""
passed=0
failed=0

cleanup() {
    if [ -n "$GUI_PID" ]; then kill "$GUI_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$DATA" "$WORK/home" "$WORK/no-python"

# The bundle's only environment. PATH names an empty folder: no python3 to fall back on.
CLEAN_ENV=(
    HOME="$WORK/home" LANG=C.UTF-8 PATH="$WORK/no-python"
    COMPTOIR_DATA_DIR="$DATA"
    PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
    QT_QPA_PLATFORM=offscreen
)
bundle() {
    env -i "${CLEAN_ENV[@]}" "$BIN" "$@"
}

check() {  # check NAME COMMAND...: one step, its time, its output when it fails
    local name="$1" started ms
    shift
    started=$(date +%s%N)
    if "$@" >"$WORK/out.txt" 2>&1; then
        ms=$((($(date +%s%N) - started) / 1000000))
        printf 'smoke: ok    %-40s %3d.%02d s\n' "$name" $((ms / 1000)) $((ms % 1000 / 10))
        passed=$((passed + 1))
    else
        printf 'smoke: FAIL  %s\n' "$name"
        sed 's/^/    /' "$WORK/out.txt" | tail -40
        failed=$((failed + 1))
    fi
}

version_matches() {
    local expected
    expected=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/app/__init__.py")
    [ "$(bundle --version)" = "Comptoir $expected" ]
}

demo() {
    bundle demo --days 2 --out "$WORK/out" --quiet && ls "$WORK"/out/F*.pdf >/dev/null
}

validate_invoice() {
    local invoice
    invoice=$(ls "$WORK"/out/F*.pdf | head -n 1)
    bundle invoice validate "$invoice"
}

journaled_start() {  # the GUI's ledger holds its START event (Python only reads the file)
    [ -x "$PY" ] || return 0
    "$PY" - "$1" 2>/dev/null <<'PYTHON'
import sqlite3
import sys

conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = conn.execute("SELECT canonical FROM journal WHERE record_type = 'EVENT'").fetchall()
sys.exit(0 if any(b'"code":"START"' in row[0] for row in rows) else 1)
PYTHON
}

gui_starts() {  # the till opens offscreen (on its first-run dialog) and keeps running
    local waited=5
    # env execs the program: $! is the GUI itself (a function would leave it orphaned)
    env -i "${CLEAN_ENV[@]}" "$BIN" --db "$WORK/gui.sqlite" >"$WORK/gui.log" 2>&1 &
    GUI_PID=$!
    sleep 5
    until kill -0 "$GUI_PID" 2>/dev/null && journaled_start "$WORK/gui.sqlite"; do
        if ! kill -0 "$GUI_PID" 2>/dev/null || [ "$waited" -ge 60 ]; then
            echo "the GUI stopped, or had opened no ledger after ${waited} s:"
            cat "$WORK/gui.log"
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    kill "$GUI_PID"
    wait "$GUI_PID" 2>/dev/null
    GUI_PID=""
    bundle --db "$WORK/gui.sqlite" verify  # the ledger it created is sound
}

downgrade_demo() {  # the demo ledger as the previous release's schema left it
    "$PY" - "$DATA/demo.sqlite" <<'EOF'
import sys

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.ledger import migrate
from app.ledger.db import make_engine

config = Config()
config.set_main_option("script_location", str(migrate.MIGRATIONS))
previous = ScriptDirectory.from_config(config).get_revision(migrate.HEAD_REVISION).down_revision
engine = make_engine(sys.argv[1])
with engine.begin() as conn:
    config.attributes["connection"] = conn
    command.downgrade(config, previous)
engine.dispose()
print("downgraded to", previous)
EOF
}

upgrade_from_bundle() {  # opening it migrates, after a backup copy, and it still verifies
    bundle --db "$DATA/demo.sqlite" verify &&
        ls "$DATA"/demo.sqlite.avant-migration-* &&
        bundle --db "$DATA/demo.sqlite" verify &&
        "$PY" - "$DATA/demo.sqlite" <<'EOF'
import sqlite3
import sys

from app.ledger import migrate

conn = sqlite3.connect(sys.argv[1])
revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
assert revision == migrate.HEAD_REVISION, revision
events = [row[0] for row in conn.execute("SELECT canonical FROM journal WHERE record_type = 'EVENT'")]
assert any(b'"code":"VERSION_CHANGE"' in event for event in events), "no VERSION_CHANGE"
print("migrated to", revision)
EOF
}

french_qt() {  # Qt's own French (« Annuler », file dialogs), loaded by app/ui/translations.py
    find "$BUNDLE" -path '*PySide6/Qt/translations/qtbase_fr.qm' | grep -q .
}

echo "smoke: bundle $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
check "comptoir --version" version_matches
check "comptoir demo --days 2" demo
check "comptoir verify" bundle --db "$DATA/demo.sqlite" verify
check "comptoir invoice validate (Factur-X)" validate_invoice
check "GUI offscreen for 5 s" gui_starts
check "Qt's French translations bundled" french_qt
if [ -x "$PY" ]; then
    check "older ledger prepared (Python)" downgrade_demo
    check "older ledger migrated by the bundle" upgrade_from_bundle
else
    echo "smoke: skipped the upgrade check: no $PY to prepare an older ledger"
fi
echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

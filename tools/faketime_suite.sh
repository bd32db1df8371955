#!/usr/bin/env bash
# The test suite run as if the clock read MOMENT (UTC), to catch what only breaks at an
# awkward time: midnight in Paris but not in UTC, the last day of a month or a year, a
# daylight-saving change. Needs libfaketime (Debian: apt-get install faketime libfaketime).
#
#   tools/faketime_suite.sh "2026-12-31 23:30:00" [pytest arguments...]
#
# The clock starts at MOMENT and runs on. Every process (pytest's workers, the `comptoir`
# commands the tests start, PostgreSQL, openssl) gets the same offset from the real clock,
# so they agree with each other; a fixed start ("@MOMENT") would set each new process back
# to MOMENT. Monotonic clocks are left alone, so that waits with a timeout end: libfaketime
# 0.9.10 then breaks Python's time.sleep, which tools/faketime/sitecustomize.py replaces.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
    echo "usage: $0 'YYYY-MM-DD HH:MM:SS' [pytest arguments...]   (a moment in UTC)" >&2
    exit 2
fi
moment=$1
shift

lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1 || true)
if [ -z "$lib" ]; then
    echo "libfaketime is missing: apt-get install -y faketime libfaketime" >&2
    exit 2
fi

target=$(date -u -d "$moment" +%s)
offset=$((target - $(date -u +%s)))
[ $# -gt 0 ] || set -- -n 2

echo "suite at $(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S UTC')" \
    "= $(TZ=Europe/Paris date -d "@$target" '+%Y-%m-%d %H:%M:%S %Z') (offset ${offset}s)"
export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export FAKETIME="${offset}s"
export FAKETIME_DONT_FAKE_MONOTONIC=1
# libfaketime reads FAKETIME again every few seconds, from any thread: a getenv racing a
# test's setenv crashed a worker (segmentation fault). The offset never changes: read it once.
export FAKETIME_CACHE_DURATION=86400
export PYTHONPATH="$PWD/tools/faketime${PYTHONPATH:+:$PYTHONPATH}"
[ "${offset:0:1}" = - ] || export FAKETIME="+${offset}s"
export QT_QPA_PLATFORM=offscreen
# Run it in the foreground: a shell starts a background job (`... &`) with SIGINT ignored,
# and the tests that stop a server with Ctrl-C then fail, whatever the clock says.
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"

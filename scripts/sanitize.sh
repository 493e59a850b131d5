#!/usr/bin/env bash
# Runs the whole Swift test suite under a sanitizer, in a build directory of
# its own (.build-address, .build-thread):
#
#   scripts/sanitize.sh address     AddressSanitizer (and LeakSanitizer, with
#                                   Tests/Sanitizers/lsan.supp for the toolchain's own)
#   scripts/sanitize.sh thread      ThreadSanitizer
#
# Exits non-zero on any report or failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/sanitize.sh address|thread}
case "$kind" in address|thread) ;; *) echo "unknown sanitizer $kind (use address or thread)" >&2; exit 2 ;; esac
swift build --build-tests --sanitize="$kind" --build-path ".build-$kind" 2>&1 | grep -v "Cannot export local symbol" || true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Tests/Sanitizers/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
swift test --skip-build --sanitize="$kind" --build-path ".build-$kind"

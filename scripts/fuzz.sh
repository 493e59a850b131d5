#!/usr/bin/env bash
# Builds the fuzz targets of Tests/Fuzz (libFuzzer + AddressSanitizer) and
# runs each on its seed corpus for FUZZ_SECONDS seconds (default 60).
#
#   make fuzz                          every target, 60 s each
#   FUZZ_SECONDS=5 make fuzz           the short pass of .ci/run
#   FUZZ_TARGETS="fuzz-npy fuzz-npz" make fuzz
#
# New inputs that reach new code go to .build-fuzz/corpus/<target> (kept
# between runs; the committed seeds in Tests/Fuzz/Corpus are only read). A
# crash, a sanitizer report, a timeout or a leak stops that target and is
# kept as .build-fuzz/crashes/<target>-<kind>-<hash>, beside a
# .command file with the command that reproduces it; the script then exits
# non-zero after the other targets have run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-.build-fuzz}
all="fuzz-npy fuzz-npz fuzz-idx fuzz-tishby-csv fuzz-mi-table fuzz-manifest fuzz-image-set fuzz-sweep-file fuzz-air-field"
targets=${FUZZ_TARGETS:-$all}

swift build --package-path Tests/Fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "Cannot export local symbol" || true
bin=Tests/Fuzz/.build/debug

dictionary() {
    case "$1" in
        fuzz-npy|fuzz-image-set) echo Tests/Fuzz/Dictionaries/npy.dict ;;
        fuzz-npz|fuzz-air-field) echo Tests/Fuzz/Dictionaries/zip.dict ;;
        fuzz-sweep-file) echo Tests/Fuzz/Dictionaries/json.dict ;;
        fuzz-idx) echo Tests/Fuzz/Dictionaries/idx.dict ;;
        fuzz-tishby-csv|fuzz-mi-table) echo Tests/Fuzz/Dictionaries/csv.dict ;;
        fuzz-manifest) echo Tests/Fuzz/Dictionaries/json.dict ;;
    esac
}

mkdir -p "$out/crashes"
failed=()
for target in $targets; do
    [ -x "$bin/$target" ] || { echo "fuzz: no target $target (known: $all)" >&2; exit 2; }
    corpus="$out/corpus/$target"
    mkdir -p "$corpus"
    log="$out/$target.log"
    export TMPDIR="$out/tmp"
    mkdir -p "$TMPDIR"
    before=$(ls "$out/crashes" | wc -l)
    status=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$(dictionary "$target")" -artifact_prefix="$out/crashes/$target-" -print_final_stats=1 \
        "$corpus" "Tests/Fuzz/Corpus/$target" > "$log" 2>&1 || status=$?
    runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" || echo "?")
    coverage=$(grep -o "cov: [0-9]*" "$log" | tail -1 || true)
    if [ "$status" -ne 0 ] || [ "$(ls "$out/crashes" | wc -l)" -ne "$before" ]; then
        failed+=("$target")
        for crash in "$out/crashes/$target-"*; do
            case "$crash" in *.command) continue ;; esac
            [ -e "$crash.command" ] || echo "$bin/$target $crash" > "$crash.command"
        done
        echo "fuzz: $target FAILED after $runs runs ($coverage); see $log and $out/crashes/$target-*"
    else
        echo "fuzz: $target ok, $runs runs in ${seconds} s ($coverage)"
    fi
    rm -rf "$TMPDIR"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failures in ${failed[*]}" >&2
    exit 1
fi

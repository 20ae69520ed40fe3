#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Fuzz/VeilFuzz) and runs one of them, or all, for a number of seconds.
#   scripts/fuzz.sh TARGET SECONDS      TARGET: sql, privacy-metadata, training-pipeline, safetensors, csv-import, all
#   scripts/fuzz.sh check [RUNS]        every target from its committed seeds with libFuzzer's seed fixed, for a
#                                       number of inputs that takes about 30 s on two idle cores (or RUNS): the
#                                       same inputs on every machine, so a result reproduces (what CI runs)
#   scripts/fuzz.sh build               only build .build/fuzz/debug/veil-fuzz
# The harness is a debug build (overflow checks and preconditions trap) in which Veil's modules carry
# SanitizerCoverage (Package.swift, VEIL_FUZZ=1). It goes to its own scratch folder, .build/fuzz, so that it never
# disturbs the normal build; VEIL_FUZZ_SCRATCH=.build shares the normal build's dependencies instead (much
# faster when they are built; the next normal build then recompiles Veil's modules). Each target starts from its
# committed seeds (Tests/FuzzCorpus/TARGET, never modified) plus what earlier runs found
# (.build/fuzz/corpus/TARGET). A crash, a timeout (10 s per input) or an input that needs more than 2 GB is
# written to .build/fuzz/crashes/TARGET/ and the script exits 1; replay one with
#   VEIL_FUZZ_TARGET=TARGET .build/fuzz/debug/veil-fuzz .build/fuzz/crashes/TARGET/crash-…
# (with VEIL_FUZZ_SCRATCH=.build the binary is .build/debug/veil-fuzz).
# See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(sql privacy-metadata training-pipeline safetensors csv-import)
# Inputs per target for `check`: about 30 s each in a fuzz build on two idle cores.
declare -A checkRuns=([sql]=300000 [privacy-metadata]=150000 [training-pipeline]=130000 [safetensors]=750000
                      [csv-import]=90000)
usage() {
    echo "usage: scripts/fuzz.sh TARGET SECONDS | scripts/fuzz.sh check [RUNS] | scripts/fuzz.sh build" >&2
    echo "       (TARGET: ${targets[*]} or all)" >&2
    exit 2
}
[ $# -ge 1 ] || usage
scratch=${VEIL_FUZZ_SCRATCH:-.build/fuzz}
binary=$scratch/debug/veil-fuzz
work=.build/fuzz

build() {
    local start=$SECONDS
    VEIL_FUZZ=1 swift build -c debug --scratch-path "$scratch" --product veil-fuzz >&2
    echo "fuzz build: $((SECONDS - start)) s" >&2
}

# run TARGET SECONDS explores from the committed seeds and what earlier runs found, for SECONDS, and keeps
# what it finds; run TARGET check RUNS replays the committed seeds, then mutates them for RUNS inputs with
# libFuzzer's seed 1 into a throw-away folder, so that the inputs tried depend only on the code.
run() {
    local target=$1 limit
    local corpus=$work/corpus/$target crashes=$work/crashes/$target
    if [ "$2" = check ]; then
        corpus=$work/check/$target
        rm -rf "$corpus"
        limit=(-runs="$3" -seed=1)
        echo "checking $target on $3 inputs from its seeds (crashes: $crashes/)" >&2
    else
        limit=(-max_total_time="$2")
        echo "fuzzing $target for $2 s (new inputs: $corpus, crashes: $crashes/)" >&2
    fi
    # Inputs read from files (and the CSV target's SQLite file) go to memory when /dev/shm is available:
    # SQLite's fsync on a disk would otherwise dominate the time of an input.
    local scratchFiles=$PWD/$work/tmp
    [ -d /dev/shm ] && [ -w /dev/shm ] && scratchFiles=/dev/shm/veil-fuzz-$$
    mkdir -p "$corpus" "$crashes" "$scratchFiles"
    local dictionary=()
    [ -f "Tests/FuzzCorpus/$target.dict" ] && dictionary=(-dict="Tests/FuzzCorpus/$target.dict")
    local status=0
    TMPDIR=$scratchFiles VEIL_FUZZ_TARGET=$target "$binary" "${dictionary[@]}" "${limit[@]}" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" "Tests/FuzzCorpus/$target" 2> "$work/$target.log" || status=$?
    rm -rf "$scratchFiles"
    [ "$2" = check ] && rm -rf "$corpus"
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added)' "$work/$target.log" >&2 || true
    if [ $status -ne 0 ]; then
        grep -E 'ERROR: libFuzzer|Fatal error|SUMMARY|Test unit written' "$work/$target.log" >&2 || true
        echo "fuzz target $target failed (exit $status); log: $work/$target.log, input: $crashes/" >&2
        return 1
    fi
}

case $1 in
    build) build ;;
    check)
        [ $# -eq 1 ] || { [ $# -eq 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]]; } || usage
        build
        failed=0
        for target in "${targets[@]}"; do run "$target" check "${2:-${checkRuns[$target]}}" || failed=1; done
        exit $failed ;;
    all|sql|privacy-metadata|training-pipeline|safetensors|csv-import)
        [ $# -eq 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || usage
        build
        if [ "$1" = all ]; then
            failed=0
            for target in "${targets[@]}"; do run "$target" "$2" || failed=1; done
            exit $failed
        fi
        run "$1" "$2" ;;
    *) usage ;;
esac

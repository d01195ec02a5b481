#!/usr/bin/env bash
# Fuzz the readers and parsers (targets in fuzz_targets/) with libFuzzer for a fixed budget each.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 seconds, all four targets
#
# Builds with plain cargo on the stable toolchain (the coverage instrumentation that cargo-fuzz would add, with
# overflow checks and debug assertions on), so nothing beyond Rust is needed. The corpus of each target starts
# from the checked-in seeds in fuzz/seeds/<target> and grows in fuzz/corpus/<target> (not checked in); a crash
# is written to fuzz/artifacts/<target>/ and fails the script. Turn every crash into a regression test of the
# reader it hit (docs/testing.md). For long runs `cargo fuzz run --sanitizer none <target>` works as well.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(npy idx csv activation)
triple="$(rustc -vV | sed -n 's/^host: //p')"
# Instrument only the fuzzed code: with an explicit --target, RUSTFLAGS skip build scripts and proc macros.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks -Cforce-frame-pointers"
cargo build --quiet --profile fuzz --target "$triple" --bins
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "fuzzing $t for ${seconds} s"
    status=0
    "target/$triple/fuzz/$t" "corpus/$t" "seeds/$t" -max_total_time="$seconds" -rss_limit_mb=4096 \
        -timeout=20 -print_final_stats=0 -artifact_prefix="artifacts/$t/" >"target/$t.log" 2>&1 || status=$?
    grep -E "^(Done|==|INFO: seed)|ERROR|panicked|SUMMARY" "target/$t.log" || true
    if [ "$status" -ne 0 ] || [ -n "$(ls -A "artifacts/$t")" ]; then
        tail -n 30 "target/$t.log" >&2
        echo "fuzz target $t failed (exit $status): inputs in fuzz/artifacts/$t/, log in fuzz/target/$t.log" >&2
        exit 1
    fi
done

#!/usr/bin/env bash
# Builds lpu_compile_bench (release preset, benchmarks on, in build/bench,
# the directory scripts/bench.sh uses) and runs it: compile time, peak
# memory and Program size of published model shapes, their predicted
# tokens/s beside the lower bound and the published figures, and the
# headline decode at 1, 8 and 64 slots. Prints the JSON and writes it to
# build/bench/compile.json. bench/README.md explains the fields.
#
# Usage: ./scripts/bench_compile.sh [FILTER]
#   FILTER runs only the cases whose label contains it, e.g.
#   ./scripts/bench_compile.sh llama-2-7b
# A full run takes a few minutes (every case compiles in a process of its
# own, one at a time, so peak memory is the case's own).
source "$(dirname "$0")/common.sh"

ensure_apt_packages

build_dir="$LPU_ROOT/build/bench"
bin="$build_dir/bench/lpu_compile_bench"
out="$build_dir/compile.json"

cd "$LPU_ROOT"
log "building lpu_compile_bench in $build_dir"
cmake --preset release -B "$build_dir" -DLPU_BUILD_BENCH=ON -DLPU_BUILD_TESTS=OFF \
  -DLPU_BUILD_EXAMPLES=OFF >/dev/null
# Two jobs at most (a shared machine); build output on stderr, so that
# stdout carries the JSON alone.
cmake --build "$build_dir" --target lpu_compile_bench --parallel 2 >&2

log "running lpu_compile_bench (load average $(cut -d' ' -f1-3 /proc/loadavg))"
# Written beside the final name first, so an interrupted run leaves the
# previous results whole.
"$bin" "$@" >"$out.part"
mv "$out.part" "$out"
cat "$out"
log "results: $out"

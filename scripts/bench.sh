#!/usr/bin/env bash
# Builds lpu_bench_kernels (release preset, benchmarks on, in build/bench)
# and runs every kernel benchmark: our int8 GEMV/GEMM, the oneDNN, Eigen
# and naive baselines and the two roofline probes, 3 repetitions each,
# medians only. Writes Google Benchmark JSON and prints a summary: each
# benchmark's roofline fraction and ratio to oneDNN, then the targets.
# Installs what is missing (Debian packages, libdnnl-dev included).
# bench/README.md explains the output.
#
# Usage: ./scripts/bench.sh [OUT.json] [extra lpu_bench_kernels flags...]
#   OUT.json defaults to build/bench/kernels.json. Without a
#   --benchmark_filter among the flags, the binary runs once per matrix
#   shape (with the probes), each run interleaving its benchmarks'
#   repetitions in random order, and the runs are merged into OUT.json.
#   With a filter it runs once, e.g.
#   ./scripts/bench.sh /tmp/k.json --benchmark_filter='4096x4096'
# The figures are only meaningful on an otherwise idle machine: the script
# prints the load average of every run.
source "$(dirname "$0")/common.sh"

ensure_apt_packages libdnnl-dev

out="${1:-$LPU_ROOT/build/bench/kernels.json}"
if [ "$#" -gt 0 ]; then shift; fi
build_dir="$LPU_ROOT/build/bench"
bin="$build_dir/bench/lpu_bench_kernels"
summarize="$LPU_ROOT/bench/kernels/summarize.py"

cd "$LPU_ROOT"
log "building lpu_bench_kernels in $build_dir"
cmake --preset release -B "$build_dir" -DLPU_BUILD_BENCH=ON -DLPU_BUILD_TESTS=OFF \
  -DLPU_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build_dir" --target lpu_bench_kernels
mkdir -p "$(dirname "$out")"

# 3 repetitions of 0.2 s, interleaved in random order so that a slow
# minute of the shared machine hits ours and the baselines alike. A full
# run takes about 4 minutes. OMP_NUM_THREADS matches oneDNN's OpenMP pool
# to our two threads.
common=(--benchmark_repetitions=3 --benchmark_report_aggregates_only=true
  --benchmark_min_time=0.2 --benchmark_enable_random_interleaving=true)
export OMP_NUM_THREADS=2

run_bench() { # JSON_OUT, flags...
  local json="$1"
  shift
  log "run $* (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$bin" "${common[@]}" --benchmark_out="$json" --benchmark_out_format=json "$@"
}

if printf '%s\n' "$@" | grep -q -- '^--benchmark_filter'; then
  run_bench "$out" "$@"
  python3 "$summarize" "$out"
else
  # One run per shape keeps that shape's working sets (about 6 GiB) alive
  # while its repetitions interleave; the probes run in every one.
  parts_dir="$(mktemp -d)"
  trap 'rm -rf "$parts_dir"' EXIT
  parts=()
  for shape in $("$bin" --benchmark_list_tests | grep -oE '/[0-9]+x[0-9]+/' | awk '!seen[$0]++'); do
    part="$parts_dir/part${#parts[@]}.json"
    run_bench "$part" --benchmark_filter="^probe/|$shape" "$@"
    parts+=("$part")
  done
  log "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
  python3 "$summarize" --merge "$out" "${parts[@]}"
fi
log "results: $out"
